// "Try next" commands are printed so that they can be copied and pasted whole: never inside a box
// border, and never hard-wrapped mid-word. A command too long for the terminal is split between
// words with a trailing backslash, which every shell reads as one command.

/** Splits a command into shell words, keeping quoted parts ('(usr|1m)') in one piece. */
function words(command: string): string[] {
  return command.match(/(?:'[^']*'|"[^"]*"|\S)+/g) ?? [];
}

/** Words a line break should not separate: an option and its value (`--dataset x`). */
function units(command: string): string[] {
  const out: string[] = [];
  for (const word of words(command)) {
    const last = out[out.length - 1];
    if (last !== undefined && /^--?[\w-]+$/.test(last) && !word.startsWith("-")) out[out.length - 1] = `${last} ${word}`;
    else out.push(word);
  }
  return out;
}

export function fitCommand(command: string, width: number, indent = 2, continuation = 4): string[] {
  const lines: string[] = [];
  let current = " ".repeat(indent);
  let empty = true;
  for (const word of units(command)) {
    // Two columns stay free for " \" at the end of a continued line.
    if (!empty && current.length + 1 + word.length + 2 > width) {
      lines.push(`${current} \\`);
      current = " ".repeat(continuation);
      empty = true;
    }
    current += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(current);
  return lines;
}
