// numpy's own array files: `.npy` (format 1.0: magic, little-endian header length, a Python dict
// literal padded to 64 bytes, then the raw data: C order when we write, either order when we read)
// and `.npz` (a zip of `<name>.npy` members).
// numpy.load must read what we write and we must read what numpy writes (it writes zip64 extras, and
// format 2.0/3.0 headers for huge dicts), so the reader is lenient and the writer plain.
import { unzipSync, Zip, ZipDeflate } from "fflate";
import { CimlError } from "./ciml-error.ts";
import type { Store } from "./workspace/store.ts";

type NpyDtype = "<f4" | "<f8" | "<i8" | `<U${number}`;

export type NpyArray = {
  dtype: NpyDtype;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | string[];
};

export class NpyError extends CimlError {
  override name = "NpyError";
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;

/** A `<U..` array as numpy.array(list_of_str) makes it: width = longest string, at least 1. */
export function stringArray(values: string[], width?: number): NpyArray {
  const longest = values.reduce((m, v) => Math.max(m, codePointLength(v)), 1);
  return { dtype: `<U${width ?? longest}`, shape: [values.length], data: values };
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function stringWidth(dtype: NpyDtype): number {
  return Number(dtype.slice(2));
}

function headerBytes(array: NpyArray): Uint8Array {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  let dict = `{'descr': '${array.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  dict += `${" ".repeat((ALIGN - (unpadded % ALIGN)) % ALIGN)}\n`;
  if (dict.length > 0xffff) throw new NpyError(`npy header too long (${dict.length} bytes)`);
  const out = new Uint8Array(MAGIC.length + 4 + dict.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = dict.length & 0xff;
  out[9] = dict.length >> 8;
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}

/** The data section of an array as bytes (a view for numbers, UTF-32LE fixed width for strings). */
function dataBytes(array: NpyArray): Uint8Array {
  const count = elementCount(array.shape);
  if (array.data.length !== count) {
    throw new NpyError(`npy ${array.dtype} array has ${array.data.length} values but shape (${array.shape.join(", ")}) needs ${count}`);
  }
  const expected = { "<f4": Float32Array, "<f8": Float64Array, "<i8": BigInt64Array } as const;
  if (array.dtype in expected) {
    const ctor = expected[array.dtype as keyof typeof expected];
    if (!(array.data instanceof ctor)) throw new NpyError(`npy ${array.dtype} array needs a ${ctor.name}`);
    return new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  }
  if (!array.dtype.startsWith("<U") || !Array.isArray(array.data)) throw new NpyError(`npy dtype ${array.dtype} is not supported`);
  const width = stringWidth(array.dtype);
  const out = new Uint32Array(count * width);
  array.data.forEach((s, i) => {
    let j = 0;
    for (const ch of s) {
      if (j === width) throw new NpyError(`string "${s.slice(0, 40)}" does not fit npy dtype ${array.dtype}`);
      out[i * width + j++] = ch.codePointAt(0)!;
    }
  });
  return new Uint8Array(out.buffer);
}

export function encodeNpy(array: NpyArray): Uint8Array {
  const header = headerBytes(array);
  const data = dataBytes(array);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

export function decodeNpy(bytes: Uint8Array, name = "array"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(`${name} is not a numpy .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new NpyError(`${name}: unreadable npy header ${header.trim()}`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => Number(s.replace(/L$/, "")));
  // The header is the file's word about its own size: a negative or fractional dimension is refused here,
  // not left to fail deep inside a typed-array constructor.
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0))
    throw new NpyError(`${name}: npy shape (${shapeText.trim()}) is not a list of whole non-negative sizes`);
  const count = elementCount(shape);
  const start = headerStart + headerLength;
  // Copy so the typed array is aligned and owns its memory (zip members start at odd offsets).
  const body = bytes.slice(start);
  const need = (bytesPer: number) => {
    if (body.length < count * bytesPer) throw new NpyError(`${name}: npy data is truncated (${body.length} of ${count * bytesPer} bytes)`);
  };
  // numpy writes Fortran-ordered arrays as they lie in memory (first index fastest): the original's
  // `examples` come out that way, so they are put back into the row-major order the rest of ciml uses.
  const order = fortran === "True" ? fortranToRowMajor(shape) : undefined;
  switch (descr) {
    case "<f4":
      need(4);
      return { dtype: descr, shape, data: reordered(new Float32Array(body.buffer, 0, count), order) };
    case "<f8":
      need(8);
      return { dtype: descr, shape, data: reordered(new Float64Array(body.buffer, 0, count), order) };
    case "<i8":
      need(8);
      return { dtype: descr, shape, data: reordered(new BigInt64Array(body.buffer, 0, count), order) };
  }
  const unicode = /^<U(\d+)$/.exec(descr);
  if (!unicode) throw new NpyError(`${name}: npy dtype ${descr} is not supported (only <f4 <f8 <i8 <U..)`);
  const width = Number(unicode[1]);
  need(4 * width);
  const codes = new Uint32Array(body.buffer, 0, count * width);
  const data: string[] = [];
  for (let i = 0; i < count; i++) {
    let end = i * width + width;
    while (end > i * width && codes[end - 1] === 0) end--;
    data.push(String.fromCodePoint(...codes.subarray(i * width, end)));
  }
  return { dtype: `<U${width}`, shape, data: order ? Array.from(order, (i) => data[i]!) : data };
}

/** For each row-major position, where that element lies in a Fortran-ordered (first index fastest) buffer. */
function fortranToRowMajor(shape: number[]): Float64Array | undefined {
  if (shape.filter((n) => n > 1).length < 2) return undefined; // 0-d and 1-d look the same in both orders
  const count = elementCount(shape);
  const fortranStride: number[] = [];
  let stride = 1;
  for (const n of shape) {
    fortranStride.push(stride);
    stride *= n;
  }
  const order = new Float64Array(count);
  const index = new Array<number>(shape.length).fill(0);
  let at = 0;
  for (let i = 0; i < count; i++) {
    order[i] = at;
    // Step the row-major index (last dimension fastest), keeping `at` in step with it.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      at += fortranStride[d]!;
      if (index[d]! < shape[d]!) break;
      at -= index[d]! * fortranStride[d]!;
      index[d] = 0;
    }
  }
  return order;
}

function reordered<T extends Float32Array | Float64Array | BigInt64Array>(data: T, order: Float64Array | undefined): T {
  if (!order) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let i = 0; i < order.length; i++) out[i] = data[order[i]!]!;
  return out;
}

const CHUNK = 1 << 20;

/**
 * Writes `<name>.npy` members into a deflated zip, as numpy.savez_compressed does, streaming each
 * array through the compressor in 1 MiB pieces so a large examples matrix is never copied whole.
 * Atomic, as every store write: a reader sees the old archive or the new one.
 */
export function writeNpz(store: Store, path: string, arrays: Record<string, NpyArray>): Promise<void> {
  return store.write(path, (write) => {
    // fflate calls back from inside push(); an error thrown there would leave the zip half-fed and
    // surface later as fflate's own confusing message, so it is kept and rethrown after each push.
    let failed: unknown;
    const zip = new Zip((err, chunk) => {
      if (failed) return;
      try {
        if (err) throw err;
        write(chunk);
      } catch (e) {
        failed = e;
      }
    });
    const push = (member: ZipDeflate, chunk: Uint8Array, final = false) => {
      member.push(chunk, final);
      if (failed) throw failed;
    };
    for (const [name, array] of Object.entries(arrays)) {
      const member = new ZipDeflate(`${name}.npy`, { level: 6 });
      zip.add(member);
      push(member, headerBytes(array));
      const data = dataBytes(array);
      if (data.length === 0) push(member, new Uint8Array(0), true);
      for (let off = 0; off < data.length; off += CHUNK) {
        push(member, data.subarray(off, Math.min(off + CHUNK, data.length)), off + CHUNK >= data.length);
      }
    }
    zip.end();
    if (failed) throw failed;
  });
}

export async function readNpz(store: Store, path: string): Promise<Record<string, NpyArray>> {
  const bytes = await store.read(path);
  if (bytes === undefined) throw new NpyError(`${path} does not exist`);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (err) {
    throw new NpyError(`${path} is not a readable npz archive (${(err as Error).message})`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [member, bytes] of Object.entries(members)) {
    const name = member.endsWith(".npy") ? member.slice(0, -4) : member;
    out[name] = decodeNpy(bytes, `${path}:${member}`);
  }
  return out;
}
