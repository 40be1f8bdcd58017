// A subunit2sql database (MySQL/MariaDB or SQLite) as a run source: the original's queries, each run's
// run_metadata rows as its metadata, and the original's rules for the runs of one build.
import { DEFAULT_DSTAT_PATHS } from "../log-server.ts";
import { openSubunit2sql, runStatus, type RunRow, type Subunit2sql } from "../subunit2sql.ts";
import type { RunSource, SourceRun } from "./run-source.ts";

function runOfRow(db: Subunit2sql, row: RunRow): SourceRun {
  return {
    id: row.uuid,
    status: runStatus(row),
    logRoot: row.artifacts,
    runAt: row.run_at,
    metadata: () => db.runMetadata(row.uuid),
  };
}

export function subunit2sqlSource(db: Subunit2sql, description: string): RunSource {
  return {
    description,
    dstatPaths: DEFAULT_DSTAT_PATHS,
    count: (buildName) => db.countRunsByKeyValue("build_name", buildName),
    list(buildName) {
      const rows = db.runsByKeyValue("build_name", buildName);
      async function* items() {
        for await (const row of rows) yield { kind: "run" as const, run: runOfRow(db, row) };
      }
      return { items: items(), mark: () => undefined, skipped: () => ({ ...rows.skipped }) };
    },
    /**
     * The original's rule: the runs whose metadata says `build_uuid = <uuid>`, keeping those whose
     * build_name is the wanted one and that are not multinode, with its line for each run left out.
     */
    async runsOfBuild(buildUuid, buildName) {
      const found: RunRow[] = [];
      // Drained before the metadata queries: a MySQL stream holds its pooled connection until it ends, and
      // builds predicted concurrently would otherwise wait on each other's connections for ever.
      for await (const row of db.runsByKeyValue("build_uuid", buildUuid)) found.push(row);
      const runs: SourceRun[] = [];
      const skipped: string[] = [];
      for (const row of found) {
        const name = (await db.runMetadata(row.uuid)).build_name;
        if (name !== buildName) skipped.push(`Build uuid: ${buildUuid} is not of proper build_name, skipping`);
        else if (name.includes("multinode")) skipped.push(`Build uuid: ${buildUuid} is a multinode build, skipping`);
        else runs.push({ ...runOfRow(db, row), buildUuid });
      }
      return { runs, skipped };
    },
    close: () => db.close(),
  };
}

export async function openSubunit2sqlSource(uri: string, connectTimeoutMs?: number): Promise<RunSource> {
  const db = await openSubunit2sql(uri, connectTimeoutMs === undefined ? {} : { connectTimeoutMs });
  return subunit2sqlSource(db, "DB");
}
