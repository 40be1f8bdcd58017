// The three clocks of a download and the retry of a refused connection, each checked by what the user
// gets back (the reason and the number of attempts), so that switching one of them off fails a test here.
import { afterAll, describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { DEFAULT_FETCH_POLICY, fetchDstat, type FetchPolicy } from "../src/io/log-server.ts";

const policy: FetchPolicy = {
  ...DEFAULT_FETCH_POLICY,
  paths: ["logs/dstat-csv_log.txt"],
  connectTimeoutMs: 300,
  readTimeoutMs: 300,
  totalTimeoutMs: 1_000,
  retries: 2,
  backoffMs: 10,
};
const accept = async () => null;
const signal = new AbortController().signal;

/** A raw TCP server, so that the test decides byte by byte what the client sees. */
function rawServer(onSocket: (socket: Socket) => void): Promise<{ url: string; connections: () => number; server: Server }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  servers.push({ server, sockets });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}/run`, connections: () => connections, server });
    }),
  );
}
const servers: { server: Server; sockets: Set<Socket> }[] = [];
afterAll(() => {
  for (const { server, sockets } of servers) {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

describe("download clocks", () => {
  // A per-test deadline well under the suite's 120 s: a clock that is switched off fails here quickly.
  test("a server that accepts but never answers runs out the first-answer clock, three times", async () => {
    const silent = await rawServer(() => {});
    const got = await fetchDstat(silent.url, policy, accept, signal);
    expect(got).toEqual({
      kind: "failed",
      url: `${silent.url}/logs/dstat-csv_log.txt`,
      reason: "timeout: no response within 0.3 s (after 3 attempts)",
    });
    expect(silent.connections()).toBe(3);
  }, 15_000);

  test("a body that trickles forever runs out the whole-download clock (--timeout), though no read stalls", async () => {
    const trickle = await rawServer((socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n");
        // One byte every 50 ms: never silent for the 300 ms read clock, never done within the 1 s total.
        const timer = setInterval(() => socket.write("1\r\nx\r\n"), 50);
        socket.on("close", () => clearInterval(timer));
      });
    });
    const got = await fetchDstat(trickle.url, policy, accept, signal);
    expect(got.kind === "failed" && got.reason).toBe("timeout: no complete file within 1 s (after 3 attempts)");
    expect(trickle.connections()).toBe(3);
  }, 15_000);

  test("a refused connection is retried before it is reported", async () => {
    const probe = await rawServer(() => {});
    const url = probe.url;
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    const got = await fetchDstat(url, policy, accept, signal);
    expect(got.kind).toBe("failed");
    expect(got.kind === "failed" && got.reason).toMatch(/^connection error: .* \(after 3 attempts\)$/);
  }, 15_000);
});

describe("bodies that break off or lie", () => {
  test("a declared Content-Length over the cap is refused at the headers, before a byte of the body", async () => {
    // Headers that announce 100 kB, then a few bytes and silence: only the header check can answer.
    const liar = await rawServer((socket) => {
      socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n\u001f\u008b"));
    });
    const got = await fetchDstat(liar.url, { ...policy, maxBytes: 10_000, readTimeoutMs: 5_000, totalTimeoutMs: 20_000 }, accept, signal);
    expect(got).toEqual({ kind: "failed", url: `${liar.url}/logs/dstat-csv_log.txt`, reason: "file is larger than the 10000 bytes cap" });
    expect(liar.connections()).toBe(1);
  }, 4_000);

  test("a body cut off by the server while the check reads it is a connection error, retried", async () => {
    const cut = await rawServer((socket) => {
      socket.once("data", () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n"time","usr"\n');
        setTimeout(() => socket.destroy(), 20);
      });
    });
    const reading = async (text: AsyncIterable<Uint8Array>) => {
      for await (const _ of text);
      return null;
    };
    const got = await fetchDstat(cut.url, policy, reading, signal);
    expect(got.kind === "failed" && got.reason).toBe("connection error: ECONNRESET (after 3 attempts)");
    expect(cut.connections()).toBe(3);
  }, 15_000);

  test("a host that does not answer is not asked for the other paths", async () => {
    const silent = await rawServer(() => {});
    const got = await fetchDstat(silent.url, { ...policy, paths: ["a.txt", "b.txt"] }, accept, signal);
    expect(got).toMatchObject({ kind: "failed", url: `${silent.url}/a.txt` });
    expect(silent.connections()).toBe(3);
  }, 15_000);
});

test("a finished download leaves no clock running: the process exits at once, not when --timeout would have run out", async () => {
  // A child that downloads one file under a 60 s --timeout and then has nothing left to do.
  const served = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x") });
  const module = join(import.meta.dir, "..", "src", "io", "log-server.ts");
  const code = `const { fetchDstat, DEFAULT_FETCH_POLICY } = await import(${JSON.stringify(module)});
    const got = await fetchDstat("http://127.0.0.1:${served.port}/run", { ...DEFAULT_FETCH_POLICY, paths: ["a"], totalTimeoutMs: 60000 }, async () => null, new AbortController().signal);
    console.log(got.kind);`;
  try {
    const child = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
    expect(await child.exited).toBe(0);
    expect((await new Response(child.stdout).text()).trim()).toBe("found");
  } finally {
    served.stop(true);
  }
}, 20_000);
