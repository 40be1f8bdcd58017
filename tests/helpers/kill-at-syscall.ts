// A real crash at a chosen moment: strace runs a child script and kills it (fault injection, a real
// SIGKILL) at the `when`-th call of the given system calls, so that a test can look at what a crash at
// exactly that point leaves behind. Only the main thread is traced, where the JavaScript runs, unless
// `allThreads` is set: a local file's bytes are written on Bun's I/O threads.

/** Runs `bun script ...args` killed at the `when`-th of `syscalls`; true when it got to its end first. */
export function runKilledAt(syscalls: string[], when: number, script: string, args: string[], allThreads = false): boolean {
  const calls = syscalls.join(",");
  const run = Bun.spawnSync([
    "strace",
    "-qq",
    ...(allThreads ? ["-f"] : []),
    "-o",
    "/dev/null",
    "-e",
    `trace=${calls}`,
    "-e",
    `inject=${calls}:signal=SIGKILL:when=${when}`,
    process.execPath,
    script,
    ...args,
  ]);
  return run.exitCode === 0;
}
