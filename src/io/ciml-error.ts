// The error a user can act on, shared by every layer (io has no imports of ours, so it lives here).
// Its message is one line that names the thing and the fix; the faces print it as is and exit with `exitCode`.
export class CimlError extends Error {
  override name = "CimlError";
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}
