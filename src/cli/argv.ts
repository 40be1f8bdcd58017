// Argument shapes that click accepted and cac does not: options that take several values
// (`--tdt-split 7 0 3`), and being invoked through a link named `ciml-<command>`.

/** Options that take a fixed number of values, as in the original's click definitions. */
const MULTI_VALUE_OPTIONS: Record<string, number> = {
  "--tdt-split": 3,
  "--dataset-experiment-label": 3,
  "--dataset-experiment-comp": 2,
  "--experiment-sets-names": 2,
};

/** Joins what follows a multi-value option into one value, so `--tdt-split 7 0 3` reaches cac whole. */
export function joinMultiValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const n = MULTI_VALUE_OPTIONS[arg];
    if (n && i + n < args.length) {
      out.push(`${arg}=${args.slice(i + 1, i + 1 + n).join(VALUE_SEPARATOR)}`);
      i += n;
    } else {
      out.push(arg);
    }
  }
  return out;
}

const VALUE_SEPARATOR = "\u001f";

/** The values of one occurrence of a multi-value option; also accepts "7 0 3" and "7,0,3" as typed by hand. */
export function splitMultiValue(value: string): string[] {
  if (value.includes(VALUE_SEPARATOR)) return value.split(VALUE_SEPARATOR);
  return value.split(/[\s,]+/).filter((v) => v.length > 0);
}

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
