// The live view in a real terminal (tmux) at 80×24 and 60×20, as a user sees it: quickstart, then
// train-model for 300 epochs. Every byte written is kept, to prove that the scrollback is never
// cleared; the screen is read back while the command runs, to prove that nothing is wider than the
// terminal and that the histograms and the training curves are shown; after the command, the typed
// command line and the whole summary must still be there.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Capture, TmuxTerminal, tmuxAvailable } from "./helpers/tmux-terminal.ts";

const DATASET = "usr_1m-1min-status";
const EPOCHS = 300;
/** The command typed last has ended: its EXIT= line is on screen below it (or it scrolled off above). */
const finished = (command: string) => (c: Capture) =>
  c.lines.slice(c.lines.findIndex((l) => l.includes(command)) + 1).some((l) => /^EXIT=\d+$/.test(l));

/**
 * Every row the program wrote fits the width (rows the terminal wrapped are joined back, so they
 * would not). The command lines the test typed at the prompt are the user's, not the program's.
 */
function expectFits(c: Capture): void {
  for (const l of c.lines) if (!l.startsWith("$ ") && l.trimEnd().length > c.columns) throw new Error(`row wider than ${c.columns}: ${l}`);
}

const histogramShown = (c: Capture) =>
  c.lines.some((l) => l.startsWith("Example length by class")) && c.lines.some((l) => /^\s*\d+–\d+ █+ +\d+\/\d+$/.test(l));
const curvesShown = (c: Capture) =>
  c.lines.some((l) => new RegExp(`^epoch \\d+/${EPOCHS} `).test(l)) && c.lines.some((l) => /^loss +[▁▂▃▄▅▆▇█]+ +\S+ +0–\S+$/.test(l));

describe.skipIf(!tmuxAvailable()).each([
  [80, 24],
  [60, 20],
])("the live view in a %i×%i terminal", (columns, rows) => {
  let term: TmuxTerminal;
  beforeAll(() => {
    term = new TmuxTerminal(columns, rows);
  });
  afterAll(() => term.close());

  test("quickstart: never clears the scrollback, fits the width, shows the histograms, leaves the command and the summary", async () => {
    const command = "ciml quickstart --dir q --runs 60";
    term.type(command);
    let histogram = false;
    await term.until(finished(command), 600_000, (c) => {
      expectFits(c);
      histogram ||= histogramShown(c);
    });
    const raw = term.raw();
    expect(raw).not.toContain("\u001b[3J");
    expect(raw).not.toContain("\u001b[2J");
    expect(histogram).toBe(true);
    const scrollback = term.scrollback();
    expect(scrollback).toContain(`$ ${command}; echo EXIT=$?`);
    expect(scrollback).toContain("EXIT=0");
    // The summary, whole: the box, where things are, and the last command to try, copy-pasteable.
    const end = scrollback.slice(scrollback.findIndex((l) => l.includes("✔ quickstart")));
    expect(end.some((l) => /^│ dataset +usr_1m-1min-status +│$/.test(l))).toBe(true);
    expect(end.some((l) => /^svm(\s|$)/.test(l))).toBe(true);
    const commands = end
      .filter((l) => /^ {2}\S/.test(l) || /^ {4}\S/.test(l))
      .join("\n")
      .replace(/ \\\n +/g, " ")
      .split("\n")
      .map((l) => l.trim());
    expect(commands.at(-1)).toMatch(/^ciml mqtt-trainer --data-path \S+ --db-uri sqlite:\/\/\/\S+ .*--experiment dnn-3x10$/);
    // Stale frames would have left redrawn stage lines ("… name") behind; finished ones are printed once.
    expect(scrollback.filter((l) => l.startsWith("… "))).toEqual([]);
    expect(scrollback.filter((l) => l.startsWith("✔ 1/5 simulate · simulate"))).toHaveLength(1);
  }, 660_000);

  test(`train-model, ${EPOCHS} epochs: the curves on screen, no scrollback cleared, one final picture left`, async () => {
    const setup = `ciml setup-experiment --data-path q/data --experiment long --epochs ${EPOCHS} --batch-size 16 --steps 100000`;
    term.type(setup);
    await term.until(finished(setup), 120_000);
    const command = `ciml train-model --data-path q/data --dataset ${DATASET} --experiment long`;
    term.type(command);
    let curves = false;
    let narrowed = false;
    let widened = false;
    const header = new RegExp(`^epoch (\\d+)/${EPOCHS} `);
    await term.until(finished(command), 600_000, (c) => {
      if (!narrowed) expectFits(c);
      curves ||= curvesShown(c);
      // Whatever the size, the screen shows one frame: frames stacked on it would repeat the header.
      expect(c.lines.filter((l) => header.test(l)).length).toBeLessThanOrEqual(1);
      // At 80×24, narrow the terminal mid-training, then widen it again.
      const epoch = Number(c.lines.map((l) => header.exec(l)?.[1]).find(Boolean) ?? 0);
      if (columns !== 80) return;
      if (!narrowed && curves && epoch >= 60) {
        term.resize(64, rows);
        narrowed = true;
      } else if (narrowed && !widened && epoch >= 180) {
        term.resize(80, rows);
        widened = true;
      }
    });
    expect(curves).toBe(true);
    expect(term.raw()).not.toContain("\u001b[3J");
    const scrollback = term.scrollback();
    expect(scrollback).toContain(`$ ${command}; echo EXIT=$?`);
    const typed = scrollback.lastIndexOf(`$ ${command}; echo EXIT=$?`);
    expect(scrollback.slice(typed).find((l) => /^EXIT=\d+$/.test(l))).toBe("EXIT=0");
    // The curves were printed once, finished; redrawn headers left behind would show other epochs. When
    // the terminal narrows, it re-wraps the frame and pushes its top rows into its history, out of
    // reach: how many partial copies a resize leaves there depends on when tmux re-wraps, so the run that
    // resizes (80 columns) is held to one frame on screen at every capture above, the other to one here.
    const headers = scrollback.filter((l) => header.test(l));
    expect(headers.at(-1)).toStartWith(`epoch ${EPOCHS}/${EPOCHS}`);
    if (columns !== 80) expect(headers).toHaveLength(1);
    const box = scrollback.slice(scrollback.findIndex((l) => l.includes("✔ train-model")));
    for (const key of ["accuracy", "auc", "model"]) expect(box.some((l) => new RegExp(`^│ ${key} +\\S`).test(l))).toBe(true);
  }, 660_000);
});
