// A real HTTP log server on loopback (Bun.serve, port 0) that serves a directory tree the way
// logs.openstack.org did, plus hooks for the faults the tests need. It counts every request it answers.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, normalize } from "node:path";

export interface LogServerOptions {
  /** directory served at / */
  root?: string;
  /** extra routes checked first; return (or resolve to) undefined to fall through to the tree */
  route?: (path: string, req: Request) => Response | Promise<Response | undefined> | undefined;
  /** answer `.gz` files with Content-Encoding: gzip, as the OpenStack log server did */
  gzipEncoding?: boolean;
  /** wait this long before answering each request */
  latencyMs?: number;
}

export interface TestLogServer {
  url: string;
  requests: string[];
  stop(): void;
}

export function serveLogTree(options: LogServerOptions = {}): TestLogServer {
  const requests: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 30,
    async fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      if (options.latencyMs) await Bun.sleep(options.latencyMs);
      const routed = await options.route?.(path, req);
      if (routed) return routed;
      if (!options.root) return new Response("not found", { status: 404 });
      const file = join(options.root, normalize(path));
      if (!file.startsWith(options.root) || !existsSync(file) || !statSync(file).isFile())
        return new Response("<html>404 Not Found</html>", { status: 404 });
      const body = readFileSync(file);
      if (file.endsWith(".gz") && options.gzipEncoding)
        return new Response(body, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } });
      return new Response(body, { headers: { "content-type": file.endsWith(".gz") ? "application/gzip" : "text/plain" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}
