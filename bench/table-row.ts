// One row of the speed table that `npm run bench` prints at the end: what was measured, today's figure
// (with the peer it is measured against, in the same run) and the goal. Each benchmark prints its rows
// as it goes; when run by bench/run.ts they are also appended to the file named by $CIML_BENCH_ROWS, so
// the closing table gathers every benchmark's rows in one place.
import { appendFileSync } from "node:fs";

export function tableRow(work: string, figure: string, goal: string): void {
  const row = `| ${work} | ${figure} | ${goal} |`;
  console.log(row);
  const file = process.env.CIML_BENCH_ROWS;
  if (file) appendFileSync(file, `${row}\n`);
}
