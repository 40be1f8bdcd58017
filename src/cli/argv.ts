// Finding the command a user meant: through a link named `ciml-<command>`, and the nearest known
// name for a "did you mean" hint.

/** `ciml-cache-data --x` → `cache-data --x` when the program was started through such a link. */
export function commandFromLinkName(programPath: string | undefined, commands: readonly string[]): string | null {
  if (!programPath) return null;
  const base = programPath
    .split(/[\\/]/)
    .pop()!
    .replace(/\.(exe|ts|js)$/i, "");
  const m = /^ciml-(.+)$/.exec(base);
  return m && commands.includes(m[1]!) ? m[1]! : null;
}

/** Closest known name, for "did you mean" hints. */
export function closest(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
