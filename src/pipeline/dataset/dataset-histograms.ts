// The live pictures build-dataset shows while it works (as histogram events every face can draw):
// example length by class (the data of sizes_by_result), class balance per set, selected columns.
import type { HistogramEvent } from "../events.ts";

const LENGTH_BINS = 10;

/** Lengths (samples after resampling) binned over [0, max], one count per class in each bin. */
export function lengthHistogram(lengths: number[], classes: string[], vocabulary: string[], targetLength: number): HistogramEvent {
  const max = lengths.reduce((m, len) => Math.max(m, len), Math.max(targetLength, 1));
  const width = Math.max(1, Math.ceil(max / LENGTH_BINS));
  const bins = Array.from({ length: Math.ceil((max + 1) / width) }, (_, i) => ({
    label: `${i * width}–${(i + 1) * width - 1}`,
    counts: vocabulary.map(() => 0),
  }));
  lengths.forEach((len, i) => {
    const bin = bins[Math.min(bins.length - 1, Math.floor(len / width))]!;
    const series = vocabulary.indexOf(classes[i]!);
    if (series >= 0) bin.counts[series]!++;
  });
  return { type: "histogram", name: "lengths", title: "Example length by class (samples after resampling)", series: vocabulary, bins };
}

/** Examples per class in each set. */
export function balanceHistogram(perSet: Record<string, string[]>, vocabulary: string[]): HistogramEvent {
  const sets = Object.keys(perSet);
  return {
    type: "histogram",
    name: "balance",
    title: "Class balance",
    series: sets,
    bins: vocabulary.map((cls) => ({ label: cls, counts: sets.map((s) => perSet[s]!.filter((c) => c === cls).length) })),
  };
}

/** For each selected column, how many loaded traces had it and how many lacked it. */
export function columnsHistogram(columns: string[], present: Int32Array, missing: Int32Array): HistogramEvent {
  return {
    type: "histogram",
    name: "columns",
    title: "Selected columns (traces with / without them)",
    series: ["present", "missing"],
    bins: columns.map((label, i) => ({ label, counts: [present[i]!, missing[i]!] })),
  };
}
