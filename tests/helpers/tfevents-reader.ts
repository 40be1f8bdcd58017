// An independent reader of TensorBoard event files, written from the published format: TFRecord
// (u64 length, masked crc32c of the length, data, masked crc32c of the data) around tensorflow.Event
// protobufs. It shares no code with src/io/tensorboard.ts, including its own bitwise CRC-32C.
import { readFileSync } from "node:fs";

export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}

function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cBitwise(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

type Field = { no: number; wire: number; value: bigint | Uint8Array; offset: number };

function* fields(buf: Uint8Array): Generator<Field> {
  let i = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    const offset = i;
    if (wire === 0) yield { no, wire, value: varint(), offset };
    else if (wire === 1) {
      yield { no, wire, value: buf.subarray(i, i + 8), offset };
      i += 8;
    } else if (wire === 5) {
      yield { no, wire, value: buf.subarray(i, i + 4), offset };
      i += 4;
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, value: buf.subarray(i, i + len), offset };
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Parses every record; throws on a bad CRC or a truncated record. */
export function readEventFile(path: string): ReadEvent[] {
  const buf = new Uint8Array(readFileSync(path));
  const events: ReadEvent[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const lenBytes = buf.subarray(pos, pos + 8);
    if (view(buf).getUint32(pos + 8, true) !== masked(lenBytes)) throw new Error(`bad length CRC at ${pos}`);
    const len = Number(view(lenBytes).getBigUint64(0, true));
    const data = buf.subarray(pos + 12, pos + 12 + len);
    if (data.length !== len) throw new Error(`truncated record at ${pos}`);
    if (view(buf).getUint32(pos + 12 + len, true) !== masked(data)) throw new Error(`bad data CRC at ${pos}`);
    pos += 16 + len;
    const event: ReadEvent = { wallTime: NaN, step: 0, scalars: {} };
    for (const f of fields(data)) {
      if (f.no === 1) event.wallTime = view(f.value as Uint8Array).getFloat64(0, true);
      else if (f.no === 2) event.step = Number(f.value);
      else if (f.no === 3) event.fileVersion = new TextDecoder().decode(f.value as Uint8Array);
      else if (f.no === 5) {
        for (const v of fields(f.value as Uint8Array)) {
          if (v.no !== 1) continue;
          let tag = "";
          let value = NaN;
          for (const x of fields(v.value as Uint8Array)) {
            if (x.no === 1) tag = new TextDecoder().decode(x.value as Uint8Array);
            if (x.no === 2) value = view(x.value as Uint8Array).getFloat32(0, true);
          }
          event.scalars[tag] = value;
        }
      }
    }
    events.push(event);
  }
  return events;
}
