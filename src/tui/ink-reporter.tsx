// The terminal face: a live Ink view, used only when stdout is a TTY (Ink in a pipe
// writes every frame with escape codes).
import { render, type Instance } from "ink";
import type { PipelineEvent } from "../pipeline/events.ts";
import { EventStore } from "./event-store.ts";
import type { Reporter } from "./reporter.ts";
import { LiveView } from "./views.tsx";

export class InkReporter implements Reporter {
  private store = new EventStore();
  private instance: Instance;

  constructor() {
    this.instance = render(<LiveView store={this.store} />, { exitOnCtrlC: false, patchConsole: false });
  }

  event(e: PipelineEvent): void {
    this.store.push(e);
  }

  error(message: string): void {
    this.store.fail(message);
  }

  close(): void {
    this.instance.rerender(<LiveView store={this.store} />);
    this.instance.unmount();
  }
}
