// A real terminal for tests of the live view: a private tmux server (its own socket, so it never
// touches anyone's tmux), a shell in a window of a given size, the command typed as a user would,
// every byte the program writes kept (pipe-pane), and the screen read back (capture-pane).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "./run-ciml.ts";

export function tmuxAvailable(): boolean {
  return Bun.spawnSync(["tmux", "-V"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

export interface Capture {
  columns: number;
  rows: number;
  /** the visible screen, one string per row, soft-wrapped rows joined back (-J) */
  lines: string[];
}

export class TmuxTerminal {
  readonly dir = mkdtempSync(join(tmpdir(), "ciml-tty-"));
  readonly captures: Capture[] = [];
  private readonly socket = `ciml-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly rawFile = join(this.dir, "raw.out");
  columns: number;
  rows: number;

  constructor(columns: number, rows: number) {
    this.columns = columns;
    this.rows = rows;
    // `ciml` on PATH, so the typed command is short and reads like the user's.
    const bin = join(this.dir, "bin");
    Bun.spawnSync(["mkdir", "-p", bin]);
    writeFileSync(join(bin, "ciml"), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
    chmodSync(join(bin, "ciml"), 0o755);
    const env = `PATH=${bin}:${process.env.PATH} PS1='$ ' TERM=xterm-256color`;
    this.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(columns),
      "-y",
      String(rows),
      "-c",
      this.dir,
      // A person's terminal, not a CI job's: with CI set, Ink draws only the last frame.
      `env -u CI ${env} bash --norc --noprofile`,
    );
    this.tmux("set-option", "-t", "t", "history-limit", "10000");
    this.tmux("pipe-pane", "-t", "t", "-o", `cat >> ${this.rawFile}`);
  }

  private tmux(...args: string[]): string {
    const r = Bun.spawnSync(["tmux", "-L", this.socket, ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  }

  /** Types a command line and presses Enter; its exit code is printed after it as EXIT=<code>. */
  type(command: string): void {
    this.tmux("send-keys", "-t", "t", "-l", `${command}; echo EXIT=$?`);
    this.tmux("send-keys", "-t", "t", "Enter");
  }

  resize(columns: number, rows: number): void {
    this.tmux("resize-window", "-t", "t", "-x", String(columns), "-y", String(rows));
    this.columns = columns;
    this.rows = rows;
  }

  capture(): Capture {
    const lines = this.tmux("capture-pane", "-p", "-J", "-t", "t").replace(/\n$/, "").split("\n");
    const c = { columns: this.columns, rows: this.rows, lines };
    this.captures.push(c);
    return c;
  }

  /** The whole history and screen after the fact, soft-wrapped rows joined back. */
  scrollback(): string[] {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t").replace(/\n+$/, "").split("\n");
  }

  raw(): string {
    try {
      return readFileSync(this.rawFile, "latin1");
    } catch {
      return "";
    }
  }

  /**
   * Captures the screen every `everyMs` until `done` holds for a capture, or throws at the deadline.
   * `onCapture` may act on the program mid-run (resize it); it is called with each capture.
   */
  async until(done: (c: Capture) => boolean, deadlineMs: number, onCapture?: (c: Capture) => void, everyMs = 250): Promise<Capture> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const c = this.capture();
      onCapture?.(c);
      if (done(c)) return c;
      if (Date.now() > deadline)
        throw new Error(`terminal did not reach the expected state within ${deadlineMs} ms; screen:\n${c.lines.join("\n")}`);
      await Bun.sleep(everyMs);
    }
  }

  close(): void {
    Bun.spawnSync(["tmux", "-L", this.socket, "kill-server"], { stdout: "ignore", stderr: "ignore" });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
