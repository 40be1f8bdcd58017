// The terminal face: a live Ink view, used only when stdout is a TTY (Ink in a pipe writes every
// frame with escape codes).
import { type Instance, render } from "ink";
import type { PipelineEvent } from "../pipeline/events.ts";
import { EventStore } from "./event-store.ts";
import type { Reporter } from "./reporter.ts";
import { frameRowsAfterResize } from "./resize.ts";
import { type FrameRecord, LiveView } from "./views.tsx";

const ERASE_LINE = "\u001b[2K";
const CURSOR_UP = "\u001b[1A";

/**
 * Ink clears the screen *and the scrollback* whenever its last frame was as tall as the terminal.
 * The view keeps its frame shorter than the screen (it reads the real rows itself); Ink is given a
 * stdout that reports no height, so that even a miscounted frame can never erase the user's history.
 */
function stdoutWithoutHeight(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  return new Proxy(stdout, {
    get(target, key) {
      if (key === "rows") return undefined;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export class InkReporter implements Reporter {
  private store = new EventStore();
  private frame: FrameRecord = { widths: [] };
  private columns = process.stdout.columns || 80;
  private instance: Instance;

  constructor() {
    // Registered before Ink's own listener, so this runs first on every resize.
    process.stdout.on("resize", this.onResize);
    this.instance = render(<LiveView store={this.store} frame={this.frame} />, {
      stdout: stdoutWithoutHeight(process.stdout),
      exitOnCtrlC: false,
      patchConsole: false,
    });
  }

  /**
   * When the terminal narrows, it re-wraps the rows of the frame on screen, so the frame now takes
   * more rows than Ink will erase (Ink erases as many as it drew, plus the cursor's row). The extra
   * rows are erased here first, or stale copies of the frame would stay stacked above the new one.
   */
  private onResize = (): void => {
    const columns = process.stdout.columns || 80;
    if (columns < this.columns) {
      const extra = frameRowsAfterResize(this.frame.widths, columns) - this.frame.widths.length;
      if (extra > 0) process.stdout.write(`${ERASE_LINE}${CURSOR_UP}`.repeat(extra));
    }
    this.columns = columns;
  };

  event(e: PipelineEvent): void {
    this.store.push(e);
  }

  private stack?: string;

  error(message: string, _exitCode: number, stack?: string): void {
    this.store.fail(message);
    this.stack = stack;
  }

  close(): void {
    this.store.close();
    // Rendered synchronously, so what close() sent to the scrollback is out before Ink lets go.
    this.instance.rerender(<LiveView store={this.store} frame={this.frame} />);
    this.instance.unmount();
    process.stdout.off("resize", this.onResize);
    // After the live view lets go of the terminal, so the stack is not drawn over.
    if (this.stack) process.stderr.write(`${this.stack}\n`);
  }
}
