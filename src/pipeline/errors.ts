import { CimlError } from "../io/ciml-error.ts";

export { CimlError };

/** A usage mistake (bad flag value, unknown command): exit code 2. */
export class UsageError extends CimlError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * One run cannot become an example for this dataset (its trace lacks the dataset's columns, its metadata
 * lacks the class label): that run is left out with this message and the command goes on. Only this type
 * is caught per run; any other error (a lost database, a broken dataset, a bug) ends the command.
 */
export class ExampleError extends CimlError {
  override name = "ExampleError";
}

/** The step stopped because its AbortSignal fired (Ctrl-C). */
export class AbortedError extends Error {
  override name = "AbortedError";
  constructor(message = "interrupted") {
    super(message);
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortedError();
}

export function isAbort(err: unknown): boolean {
  return err instanceof AbortedError || (err instanceof Error && err.name === "AbortError");
}
