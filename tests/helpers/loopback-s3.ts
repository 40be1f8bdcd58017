// A loopback HTTP server that answers the way a busy or stuck S3 does, for the behaviours s3rver
// (helpers/s3-server.ts) cannot be made to show on demand: SlowDown, a request never answered, the steps
// of a multipart upload; or that stands in front of s3rver and passes requests on until told to stop.
// Each request is logged as `METHOD /path?query`, in the order it came.

const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`;
const EMPTY_LISTING = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bkt</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`;

/** 503 SlowDown, as S3 answers a client it wants to slow down. */
export const slowDown = () => new Response(SLOW_DOWN, { status: 503, headers: { "content-type": "application/xml" } });

/** What an empty bucket answers: an empty listing to a GET, success with an ETag to anything else. */
export function emptyBucket(req: Request): Response {
  if (req.method === "GET") return new Response(EMPTY_LISTING, { headers: { "content-type": "application/xml" } });
  return new Response("", { status: 200, headers: { etag: '"0"' } });
}

/** An answer that never comes (the connection stays open until the server stops). */
export const never = (): Promise<Response> => new Promise(() => {});

/** The request passed on to a real S3 server at `target` (s3rver), and its answer passed back. */
export async function forward(req: Request, target: string): Promise<Response> {
  const url = new URL(req.url);
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
  const answer = await fetch(new URL(`${url.pathname}${url.search}`, target), { method: req.method, headers: req.headers, body });
  return new Response(req.method === "HEAD" ? null : await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
}

export interface LoopbackS3 {
  url: string;
  /** every request so far, `METHOD /path?query` */
  requests: string[];
  /** resolves once `count` requests have come */
  arrived(count: number): Promise<void>;
  stop(): void;
}

/** Answers the n-th request (from 1) with `answer`; the settings reach it as `endpoint`. */
export function loopbackS3(answer: (req: Request, n: number) => Response | Promise<Response>): LoopbackS3 {
  const requests: string[] = [];
  const waiting: { count: number; done: () => void }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req) {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      for (const w of waiting.filter((w) => requests.length >= w.count)) w.done();
      return answer(req, requests.length);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    arrived: (count) => new Promise((done) => (requests.length >= count ? done() : waiting.push({ count, done }))),
    stop: () => void server.stop(true),
  };
}

/** Credentials for a store pointed at a loopback server (it checks none); `endpoint` is the server's url. */
export const loopbackSettings = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  accessKeyId: "AKIATESTKEY0001",
  secretAccessKey: "test-secret-0001",
});
