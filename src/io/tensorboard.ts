// TensorBoard event files: TFRecord framing around `Event` protocol buffers holding scalar `Summary`s.
// We write only three message shapes (file_version, and Event{wall_time, step, Summary{Value{tag,
// simple_value}}}), which is ~40 lines of wire format; a protobuf library plus .proto files would add a
// dependency and a code generator for that. Field numbers are from tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto.
import { hostname } from "node:os";
import { type Appender, type Store, within } from "./workspace/store.ts";

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking, so that CRCs of data that itself contains CRCs stay well distributed. */
function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: u64 length, masked CRC of the length, the data, masked CRC of the data (all little-endian). */
function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

class ProtoWriter {
  private parts: number[] = [];
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }
  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }
  int64(field: number, v: number): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }
  double(field: number, v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return this.fixed(field, 1, b);
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.fixed(field, 5, b);
  }
  private fixed(field: number, wireType: 1 | 5, littleEndian: Uint8Array): this {
    this.key(field, wireType);
    this.parts.push(...littleEndian);
    return this;
  }
  bytes(field: number, v: Uint8Array): this {
    this.key(field, 2);
    this.varint(v.length);
    this.parts.push(...v);
    return this;
  }
  string(field: number, v: string): this {
    return this.bytes(field, new TextEncoder().encode(v));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

// Event: 1 wall_time (double), 2 step (int64), 3 file_version (string), 5 summary (Summary).
// Summary: 1 value (repeated Value). Value: 1 tag (string), 2 simple_value (float).
function encodeFileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).string(3, "brain.Event:2").finish();
}

function encodeScalarsEvent(wallTime: number, step: number, scalars: Record<string, number>): Uint8Array {
  const summary = new ProtoWriter();
  for (const [tag, value] of Object.entries(scalars)) summary.bytes(1, new ProtoWriter().string(1, tag).float(2, value).finish());
  return new ProtoWriter().double(1, wallTime).int64(2, step).bytes(5, summary.finish()).finish();
}

let writers = 0;

/**
 * Appends events to `<dir>/events.out.tfevents.<seconds>.<host>.<pid>.<n>`. Each record is written and fsynced as it
 * comes, as TensorFlow's writer does, so TensorBoard can follow a run live; a crash loses at most the last record.
 * (On S3, where nothing appends, the store uploads the file whole every few seconds and at close.)
 */
export class EventFileWriter {
  readonly path: string;
  private out: Appender;

  constructor(store: Store, dir: string, now = Date.now()) {
    // pid and a counter as TF 2 adds them: two writers in one directory within a second stay apart.
    this.path = within(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}.${++writers}`);
    this.out = store.appender(this.path);
    this.write(encodeFileVersionEvent(now / 1000));
  }

  scalars(step: number, values: Record<string, number>, now = Date.now()): void {
    const finite = Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
    if (Object.keys(finite).length) this.write(encodeScalarsEvent(now / 1000, step, finite));
  }

  private write(event: Uint8Array): void {
    this.out.append(tfRecord(event));
  }

  close(): Promise<void> {
    return this.out.close();
  }
}
