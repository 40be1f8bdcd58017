// Text that came from outside (database rows, MQTT payloads) made safe to print on a line: control
// characters written as escapes, so a run id holding a newline or an escape sequence cannot forge an
// output line or drive the terminal, and long values shortened, so a 10,000-character id stays one line.

/** Longest value printed whole. */
const SHOWN_MAX = 200;

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeControl(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Control characters escaped, nothing shortened: for whole lines. */
function withoutControls(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** One outside value as printed: escaped, and cut to `max` characters (the last one "…") with how much was left out. */
export function shown(value: string, max = SHOWN_MAX): string {
  const safe = withoutControls(value);
  return safe.length <= max ? safe : `${safe.slice(0, max - 1)}… (${safe.length - max + 1} more characters)`;
}

/** A whole line as plain output prints it: escaped, and every word longer than `max` shortened. */
export function plainLine(line: string, max = SHOWN_MAX): string {
  return withoutControls(line).replace(new RegExp(`\\S{${max + 1},}`, "g"), (word) => shown(word, max));
}
