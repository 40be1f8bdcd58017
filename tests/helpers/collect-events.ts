// Runs a pipeline step the way the faces do, keeping every event for the test to look at.
import type { PipelineEvent, Step } from "../../src/pipeline/events.ts";

export async function collect<O, R>(
  step: Step<O, R>,
  options: O,
  signal = new AbortController().signal,
  onEvent?: (e: PipelineEvent) => void,
): Promise<{ result: R; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  const result = await step(options, {
    emit: (e) => {
      events.push(e);
      onEvent?.(e);
    },
    signal,
  });
  return { result, events };
}

/** The error a step threw, with the events it emitted before. */
export async function collectFailure<O, R>(
  step: Step<O, R>,
  options: O,
  signal = new AbortController().signal,
  onEvent?: (e: PipelineEvent) => void,
): Promise<{ error: Error; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  try {
    await step(options, {
      emit: (e) => {
        events.push(e);
        onEvent?.(e);
      },
      signal,
    });
  } catch (error) {
    return { error: error as Error, events };
  }
  throw new Error("the step was expected to fail but succeeded");
}
