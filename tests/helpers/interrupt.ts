// Ctrl-C as a user presses it: a real SIGINT to a child process, sent at the moment its --json output
// shows the work the test wants interrupted, or at a moment the test itself sees (a request reaching its server).

/** One --json line; every event has a type, the rest depends on it. */
export type JsonEvent = { type: string } & Record<string, unknown>;

/** If the process has not ended this long after SIGINT it is killed (exit 137), which fails the test. */
const GIVE_UP_MS = 15_000;
/** If the awaited event has not come this long after the start, the process is killed and the test fails. */
const READY_WITHIN_MS = 60_000;

/**
 * Runs `argv` in `cwd`, waits for the first event `ready` accepts, sends SIGINT and waits for the end.
 * Returns the exit code, the milliseconds from signal to exit, every event printed and stderr.
 */
export async function interruptWhen(argv: string[], cwd: string, ready: (event: JsonEvent) => boolean) {
  const p = Bun.spawn(argv, { cwd, env: { ...process.env, CI: "true" }, stdout: "pipe", stderr: "pipe" });
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const events: JsonEvent[] = [];
  let buffered = "";
  const take = (text: string) => {
    buffered += text;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) events.push(JSON.parse(line) as JsonEvent);
  };
  // A deadline, so that a command that never gets there fails here rather than at the suite's timeout.
  const tooLate = setTimeout(() => p.kill("SIGKILL"), READY_WITHIN_MS);
  while (!events.some(ready)) {
    const { value, done } = await reader.read();
    if (done) {
      clearTimeout(tooLate);
      const err = await new Response(p.stderr).text();
      throw new Error(`${argv.join(" ")} ended (exit ${await p.exited}) before the event to interrupt it came: ${err}`);
    }
    take(value);
  }
  clearTimeout(tooLate);
  const { code, ms } = await sigint(p);
  for (let r = await reader.read(); !r.done; r = await reader.read()) take(r.value);
  return { code, ms, events, err: await new Response(p.stderr).text() };
}

/**
 * Runs `argv` in `cwd` with `env` added, sends SIGINT once `moment` resolves (a test's server saw the
 * request it waits for) and waits for the end. Returns the exit code, the milliseconds from signal to
 * exit, stdout and stderr.
 */
export async function interruptAt(argv: string[], cwd: string, env: Record<string, string>, moment: Promise<unknown>) {
  const p = Bun.spawn(argv, { cwd, env: { ...process.env, CI: "true", ...env }, stdout: "pipe", stderr: "pipe" });
  const tooLate = setTimeout(() => p.kill("SIGKILL"), READY_WITHIN_MS);
  const endedFirst = await Promise.race([moment.then(() => false), p.exited.then(() => true)]);
  clearTimeout(tooLate);
  const err = () => new Response(p.stderr).text();
  if (endedFirst) throw new Error(`${argv.join(" ")} ended (exit ${await p.exited}) before the moment to interrupt it: ${await err()}`);
  return { ...(await sigint(p)), out: await new Response(p.stdout).text(), err: await err() };
}

/** SIGINT, then the exit code and how long after it the process ended (killed, 137, if it does not). */
async function sigint(p: Bun.Subprocess) {
  const sent = performance.now();
  p.kill("SIGINT");
  const guard = setTimeout(() => p.kill("SIGKILL"), GIVE_UP_MS);
  const code = await p.exited;
  clearTimeout(guard);
  return { code, ms: performance.now() - sent };
}
