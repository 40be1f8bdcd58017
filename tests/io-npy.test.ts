import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { unzipSync, zipSync } from "fflate";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeNpy, encodeNpy, NpyError, readNpz, stringArray, writeNpz, type NpyArray } from "../src/io/npy.ts";
import { disk } from "./helpers/disk.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-npy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(script: string, ...args: string[]): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script, ...args]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

// Values that survive float32 exactly and some that do not, negative, tiny, huge.
const f32 = Float32Array.from([0, 1.5, -2.25, 3.4e38, 1e-40, 0.1, Math.PI]);
const f64 = Float64Array.from([0, 0.1, -1e300, 5e-324, Math.E, 123456789.123]);

describe("numpy reads what we write", () => {
  test("npz with every dtype: shapes, dtypes and values", async () => {
    const path = join(dir, "all.npz");
    const examples = new Float32Array(3 * 4).map((_, i) => i / 7 - 0.5);
    await writeNpz(disk, path, {
      examples: { dtype: "<f4", shape: [3, 4], data: examples },
      wide: { dtype: "<f8", shape: [f64.length], data: f64 },
      narrow: { dtype: "<f4", shape: [f32.length], data: f32 },
      classes: { dtype: "<i8", shape: [3], data: BigInt64Array.from([0n, 1n, -9007199254740993n]) },
      example_ids: stringArray(["2c1e9a7e-8a2b-4c6e-9f1d-0123456789ab", "b", ""], 36),
      labels: stringArray(["usr0", "1m91", "ünïcödé", "😀x"]),
    });
    const out = JSON.parse(
      python(
        `import numpy as np,sys,json
z=np.load(sys.argv[1])
print(json.dumps({k:{'dtype':z[k].dtype.str,'shape':list(z[k].shape),'values':[repr(x) for x in z[k].ravel().tolist()]} for k in z.files}))`,
        path,
      ),
    ) as Record<string, { dtype: string; shape: number[]; values: string[] }>;
    expect(out.examples!.dtype).toBe("<f4");
    expect(out.examples!.shape).toEqual([3, 4]);
    // repr of a Python float is the shortest round-trip form; compare as numbers
    expect(out.examples!.values.map(Number)).toEqual([...examples]);
    expect(out.wide!.values.map(Number)).toEqual([...f64]);
    expect(out.narrow!.values.map(Number)).toEqual([...f32]);
    expect(out.classes!.dtype).toBe("<i8");
    expect(out.classes!.values).toEqual(["0", "1", "-9007199254740993"]);
    expect(out.example_ids!.dtype).toBe("<U36");
    expect(out.example_ids!.values).toEqual(["'2c1e9a7e-8a2b-4c6e-9f1d-0123456789ab'", "'b'", "''"]);
    expect(out.labels!.dtype).toBe("<U7");
    expect(out.labels!.values).toEqual(["'usr0'", "'1m91'", "'ünïcödé'", "'😀x'"]);
  });

  test("a single .npy file with an empty array and a 3-d array", () => {
    const empty = join(dir, "empty.npy");
    writeFileSync(empty, encodeNpy({ dtype: "<f8", shape: [0, 5], data: new Float64Array(0) }));
    const cube = join(dir, "cube.npy");
    writeFileSync(cube, encodeNpy({ dtype: "<f8", shape: [2, 3, 2], data: Float64Array.from({ length: 12 }, (_, i) => i) }));
    const out = python(
      "import numpy as np,sys; a=np.load(sys.argv[1]); b=np.load(sys.argv[2]); print(a.shape, a.dtype, b.shape, b[1,2,1], b[0,1,0])",
      empty,
      cube,
    );
    expect(out.trim()).toBe("(0, 5) float64 (2, 3, 2) 11.0 2.0");
  });

  test("headers are padded so the data starts 64-byte aligned", () => {
    for (const shape of [[1], [10, 20], [123456, 7]]) {
      const bytes = encodeNpy({ dtype: "<f4", shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
      const headerEnd = 10 + (bytes[8]! | (bytes[9]! << 8));
      expect(headerEnd % 64).toBe(0);
      expect(bytes[headerEnd - 1]).toBe(0x0a);
    }
  });
});

describe("we read what numpy writes", () => {
  for (const fn of ["savez", "savez_compressed"]) {
    test(`np.${fn} (zip64 extras, every dtype we use)`, async () => {
      const path = join(dir, `${fn}.npz`);
      python(
        `import numpy as np,sys
np.${fn}(sys.argv[1], examples=np.arange(12,dtype=np.float32).reshape(3,4)/3, wide=np.array([0.1,-1e300,5e-324]),
  classes=np.array([0,1,1],dtype=np.int64), example_ids=np.array(['abc','de','']), labels=np.array(['usr0','ünï😀']))`,
        path,
      );
      const z = await readNpz(disk, path);
      expect(z.examples!.dtype).toBe("<f4");
      expect(z.examples!.shape).toEqual([3, 4]);
      expect([...(z.examples!.data as Float32Array)]).toEqual([...Float32Array.from({ length: 12 }, (_, i) => i / 3)]);
      expect([...(z.wide!.data as Float64Array)]).toEqual([0.1, -1e300, 5e-324]);
      expect(z.classes!.dtype).toBe("<i8");
      expect([...(z.classes!.data as BigInt64Array)]).toEqual([0n, 1n, 1n]);
      expect(z.example_ids!.dtype).toBe("<U3");
      expect(z.example_ids!.data).toEqual(["abc", "de", ""]);
      expect(z.labels!.data).toEqual(["usr0", "ünï😀"]);
    });
  }

  test("Fortran-ordered arrays (how numpy saved the original's examples) read in row-major order", async () => {
    const path = join(dir, "fortran.npz");
    const want = JSON.parse(
      python(
        `import numpy as np,sys,json
e=np.asfortranarray(np.arange(12,dtype=np.float32).reshape(3,4)/3)
c=np.asfortranarray(np.arange(24,dtype=np.float64).reshape(2,3,4)*1.5)
i=np.asfortranarray(np.arange(6,dtype=np.int64).reshape(2,3)-2)
s=np.asfortranarray(np.array([['a','bc','d'],['ef','g','hij']]))
assert e.flags.f_contiguous and not e.flags.c_contiguous
np.savez_compressed(sys.argv[1], examples=e, cube=c, ints=i, strings=s)
z=np.load(sys.argv[1])
print(json.dumps({k:z[k].ravel(order='C').tolist() for k in ['examples','cube','ints','strings']}))`,
        path,
      ),
    ) as Record<string, (number | string)[]>;
    const z = await readNpz(disk, path);
    expect(z.examples!.shape).toEqual([3, 4]);
    expect([...(z.examples!.data as Float32Array)]).toEqual([...Float32Array.from(want.examples as number[])]);
    expect(z.cube!.shape).toEqual([2, 3, 4]);
    expect([...(z.cube!.data as Float64Array)]).toEqual(want.cube as number[]);
    expect([...(z.ints!.data as BigInt64Array)].map(Number)).toEqual(want.ints as number[]);
    expect(z.strings!.data).toEqual(want.strings as string[]);
  });

  test("round trip through our own encoder keeps every value", () => {
    const arrays: NpyArray[] = [
      { dtype: "<f4", shape: [7], data: f32 },
      { dtype: "<f8", shape: [2, 3], data: f64 },
      { dtype: "<i8", shape: [2], data: BigInt64Array.from([-1n, 2n ** 62n]) },
      stringArray(["a", "bcd"]),
    ];
    for (const a of arrays) expect(decodeNpy(encodeNpy(a))).toEqual(a);
  });
});

describe("bad input is refused with a reason", () => {
  test("not npy, unsupported dtype, wrong data length, string too long", async () => {
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(/bad magic/);
    const negative = encodeNpy({ dtype: "<f8", shape: [2], data: new Float64Array(2) });
    const header = new TextDecoder("latin1").decode(negative.subarray(10, 74)).replace("(2,)", "(-2,)");
    negative.set(new TextEncoder().encode(header), 10);
    expect(() => decodeNpy(negative, "neg.npy")).toThrow("neg.npy: npy shape (-2,) is not a list of whole non-negative sizes");
    const bool = join(dir, "b.npy");
    python("import numpy as np,sys; np.save(sys.argv[1], np.ones(3,dtype=bool))", bool);
    const boolBytes = new Uint8Array(readFileSync(bool));
    expect(() => decodeNpy(boolBytes)).toThrow(/not supported/);
    expect(() => encodeNpy({ dtype: "<f4", shape: [3], data: new Float32Array(2) })).toThrow(NpyError);
    expect(() => encodeNpy({ dtype: "<f4", shape: [2], data: new Float64Array(2) })).toThrow(/Float32Array/);
    expect(() => encodeNpy({ dtype: "<U2", shape: [1], data: ["abc"] })).toThrow(/does not fit/);
    const junk = join(dir, "junk.npz");
    writeFileSync(junk, "<html>not a zip</html>");
    await expect(readNpz(disk, junk)).rejects.toThrow(/not a readable npz/);
  });
});

/** An .npy file as another writer may lay it out: `major` 1 has a 2-byte header length, 2 and 3 a 4-byte one. */
function npyFile(header: string, body: Uint8Array, major = 1, headerBytes = new TextEncoder().encode(header)): Uint8Array {
  const lengthBytes = major === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + headerBytes.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0], 0);
  if (major === 1) new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  else new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lengthBytes);
  out.set(body, 8 + lengthBytes + headerBytes.length);
  return out;
}

const twoDoubles = new Uint8Array(Float64Array.from([1.5, -2]).buffer);

describe("headers other writers make", () => {
  test("format 2.0 and 3.0 (4-byte header length, numpy's choice for big headers) read like 1.0", () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
    for (const major of [1, 2, 3]) {
      const a = decodeNpy(npyFile(header, twoDoubles, major));
      expect(a).toEqual({ dtype: "<f8", shape: [2], data: Float64Array.from([1.5, -2]) });
    }
    // What numpy writes a 2.0 header for: one longer than 64 KiB.
    const huge = `${header.trimEnd()}${" ".repeat(70_000)}\n`;
    expect(decodeNpy(npyFile(huge, twoDoubles, 2))).toEqual({ dtype: "<f8", shape: [2], data: Float64Array.from([1.5, -2]) });
  });

  test("a 3.0 header is UTF-8 and a 1.0 header latin-1: a dtype named in a message reads as written", () => {
    const v3 = npyFile("{'descr': '<é4', 'fortran_order': False, 'shape': (2,), }", twoDoubles, 3);
    expect(() => decodeNpy(v3, "v3.npy")).toThrow("v3.npy: npy dtype <é4 is not supported");
    const latin1 = Uint8Array.from("{'descr': '<\xe94', 'fortran_order': False, 'shape': (2,), }", (c) => c.charCodeAt(0));
    expect(() => decodeNpy(npyFile("", twoDoubles, 1, latin1), "v1.npy")).toThrow("v1.npy: npy dtype <é4 is not supported");
  });

  test("no spaces after the colons, and Python 2 long sizes (2L)", () => {
    const packed = npyFile("{'descr':'<f8','fortran_order':False,'shape':(2L,)}", twoDoubles);
    expect(decodeNpy(packed)).toEqual({ dtype: "<f8", shape: [2], data: Float64Array.from([1.5, -2]) });
    const matrix = npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1L, 2L), }", twoDoubles);
    expect(decodeNpy(matrix).shape).toEqual([1, 2]);
  });

  test("a header missing descr, fortran_order or shape is named with the header, trimmed", () => {
    const full = { descr: "'descr': '<f8'", fortran: "'fortran_order': False", shape: "'shape': (2,)" };
    for (const missing of ["descr", "fortran", "shape"] as const) {
      const dict = `{${Object.entries(full)
        .filter(([k]) => k !== missing)
        .map(([, v]) => v)
        .join(", ")}}`;
      expect(() => decodeNpy(npyFile(`  ${dict}   \n`, twoDoubles), "x.npy")).toThrow(`x.npy: unreadable npy header ${dict}`);
    }
  });

  test("a shape with any negative or fractional size is refused, naming the shape; a zero size is fine", () => {
    const shaped = (shape: string) => npyFile(`{'descr': '<f8', 'fortran_order': False, 'shape': (${shape}), }`, twoDoubles);
    expect(() => decodeNpy(shaped("2, -1"), "s.npy")).toThrow("s.npy: npy shape (2, -1) is not a list of whole non-negative sizes");
    expect(() => decodeNpy(shaped(" 1.5, "), "s.npy")).toThrow("s.npy: npy shape (1.5,) is not a list of whole non-negative sizes");
    expect(decodeNpy(shaped("0, 5"))).toEqual({ dtype: "<f8", shape: [0, 5], data: new Float64Array(0) });
  });

  test("data shorter than the shape says is refused with both sizes", () => {
    const short = (descr: string, shape: string, bytes: number) =>
      npyFile(`{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`, new Uint8Array(bytes));
    expect(() => decodeNpy(short("<f4", "3,", 8), "t.npy")).toThrow("t.npy: npy data is truncated (8 of 12 bytes)");
    expect(() => decodeNpy(short("<f8", "2,", 12), "t.npy")).toThrow("t.npy: npy data is truncated (12 of 16 bytes)");
    expect(() => decodeNpy(short("<i8", "2,", 8), "t.npy")).toThrow("t.npy: npy data is truncated (8 of 16 bytes)");
    expect(() => decodeNpy(short("<U3", "2,", 20), "t.npy")).toThrow("t.npy: npy data is truncated (20 of 24 bytes)");
  });

  test("string widths of more than one digit", () => {
    const wide = stringArray(["a-run-name-of-12", "x"]);
    expect(wide.dtype).toBe("<U16");
    expect(decodeNpy(encodeNpy(wide))).toEqual(wide);
  });

  test("not an npy file: too short, or any magic byte wrong", () => {
    expect(() => decodeNpy(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0]))).toThrow(
      "array is not a numpy .npy file (bad magic)",
    );
    expect(() =>
      decodeNpy(
        npyFile("{}", new Uint8Array(0)).map((b, i) => (i === 5 ? 0x5a : b)),
        "z.npy",
      ),
    ).toThrow("z.npy is not a numpy .npy file (bad magic)");
    // Ten bytes with the right magic: a file with an empty header, not a file of another kind.
    expect(() => decodeNpy(npyFile("", new Uint8Array(0)), "e.npy")).toThrow("e.npy: unreadable npy header");
  });
});

describe("what the writer refuses", () => {
  test("each refusal names the problem", () => {
    expect(() => encodeNpy({ dtype: "<f4", shape: [2, 3], data: new Float32Array(5) })).toThrow(
      "npy <f4 array has 5 values but shape (2, 3) needs 6",
    );
    expect(() => encodeNpy({ dtype: "<i4" as "<f4", shape: [1], data: new Float32Array(1) })).toThrow("npy dtype <i4 is not supported");
    expect(() => encodeNpy({ dtype: "<U3", shape: [1], data: new Float32Array(1) })).toThrow("npy dtype <U3 is not supported");
    expect(() => encodeNpy({ dtype: "<i4" as "<U1", shape: [1], data: ["a"] })).toThrow("npy dtype <i4 is not supported");
    // A header of more than 64 KiB cannot be written as format 1.0.
    const dims = new Array(30000).fill(1);
    expect(() => encodeNpy({ dtype: "<f4", shape: dims, data: new Float32Array(1) })).toThrow(/^npy header too long \(\d+ bytes\)$/);
  });

  test("a string too long for its dtype is quoted, cut to 40 characters", () => {
    const long = `${"x".repeat(40)}TAIL`;
    expect(() => encodeNpy({ dtype: "<U2", shape: [1], data: [long] })).toThrow(`string "${"x".repeat(40)}" does not fit npy dtype <U2`);
  });
});

describe("npz archives", () => {
  test("arrays of 0 bytes, exactly one 1 MiB write piece, and more than one piece round-trip", async () => {
    const path = join(dir, "sizes.npz");
    // Repeating values: deflate is quick on them, and a piece written twice or dropped still shows.
    const exact = Float32Array.from({ length: (1 << 20) / 4 }, (_, i) => i % 251);
    const more = Float64Array.from({ length: (1 << 20) / 8 + 1000 }, (_, i) => -(i % 253) / 3);
    await writeNpz(disk, path, {
      empty: { dtype: "<f4", shape: [0, 3], data: new Float32Array(0) },
      exact: { dtype: "<f4", shape: [exact.length], data: exact },
      more: { dtype: "<f8", shape: [more.length], data: more },
    });
    const z = await readNpz(disk, path);
    expect(z.empty).toEqual({ dtype: "<f4", shape: [0, 3], data: new Float32Array(0) });
    const sameBytes = (a: NpyArray["data"], b: Float32Array | Float64Array) =>
      Buffer.from((a as Float32Array).buffer).equals(Buffer.from(b.buffer));
    expect(sameBytes(z.exact!.data, exact)).toBe(true);
    expect(sameBytes(z.more!.data, more)).toBe(true);
    // Each member holds exactly its array: no piece written twice.
    const members = unzipSync(readFileSync(path));
    expect(members["more.npy"]!.length).toBe(encodeNpy(z.more!).length);
    expect(members["exact.npy"]!.length).toBe(encodeNpy(z.exact!).length);
  });

  test("a missing archive, and a damaged member named path:member", async () => {
    await expect(readNpz(disk, join(dir, "nowhere.npz"))).rejects.toThrow(`${join(dir, "nowhere.npz")} does not exist`);
    const path = join(dir, "damaged.npz");
    writeFileSync(path, zipSync({ "examples.npy": new Uint8Array([1, 2, 3]) }));
    await expect(readNpz(disk, path)).rejects.toThrow(`${path}:examples.npy is not a numpy .npy file (bad magic)`);
  });

  test("a member without the .npy suffix keeps its whole name", async () => {
    const path = join(dir, "bare.npz");
    writeFileSync(path, zipSync({ weights: encodeNpy({ dtype: "<f8", shape: [2], data: Float64Array.from([1.5, -2]) }) }));
    expect(Object.keys(await readNpz(disk, path))).toEqual(["weights"]);
  });
});
