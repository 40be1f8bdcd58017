// `ciml`, `ciml --help` and `ciml --version` answered before the rest of the CLI loads. They are the
// commands people run to see whether the tool works, so they should start as fast as Bun itself: this
// file imports nothing, and the help page is imported only when it is asked for. Anything else
// (a command, a face flag, a ciml-<command> link) goes to run-cli.ts, which gives the same answers
// for these words too; the quick path only skips loading the parser and the option tables.

const HELP_WORDS = new Set(["--help", "-h", "help"]);
const VERSION_WORDS = new Set(["--version", "-v"]);

/** What the quick path shows for `words`, or null when run-cli.ts must decide. */
export function quickAnswer(words: readonly string[], programs: readonly (string | undefined)[]): "help" | "version" | null {
  // A link named ciml-<command> runs that command even with no words.
  if (programs.some((p) => p !== undefined && /^ciml-/.test(p.split(/[\\/]/).pop()!))) return null;
  if (words.length === 0) return "help";
  if (words.length > 1) return null;
  if (HELP_WORDS.has(words[0]!)) return "help";
  if (VERSION_WORDS.has(words[0]!)) return "version";
  return null;
}
