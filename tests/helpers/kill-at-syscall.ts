// A real crash at a chosen moment: strace runs a child script and kills it (fault injection, a real
// SIGKILL) at the `when`-th call of the given system calls, so that a test can look at what a crash at
// exactly that point leaves behind; or makes the first such call fail with an error number instead, as a
// full or failing disk would. Only the main thread is traced, where the JavaScript runs, unless
// `allThreads` is set: the workspace store's fsync runs on one of Bun's worker threads.

/** Runs `bun script ...args` killed at the `when`-th of `syscalls`; true when it got to its end first. */
export function runKilledAt(syscalls: string[], when: number, script: string, args: string[], allThreads = false): boolean {
  return straced(syscalls.join(","), `signal=SIGKILL:when=${when}`, script, args, allThreads).exitCode === 0;
}

/** Runs `bun script ...args` with the first of its `syscall` calls failing with `errno`; what it printed. */
export function runWithSyscallError(syscall: string, errno: string, script: string, args: string[], allThreads = false): string {
  return straced(syscall, `error=${errno}:when=1`, script, args, allThreads).stdout.toString();
}

/** `bun script ...args` under strace, with `injection` (strace's inject= words) on the `calls` named. */
function straced(calls: string, injection: string, script: string, args: string[], allThreads: boolean) {
  return Bun.spawnSync([
    "strace",
    "-qq",
    ...(allThreads ? ["-f"] : []),
    "-o",
    "/dev/null",
    "-e",
    `trace=${calls}`,
    "-e",
    `inject=${calls}:${injection}`,
    process.execPath,
    script,
    ...args,
  ]);
}
