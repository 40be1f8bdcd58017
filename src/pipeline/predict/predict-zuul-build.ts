// A build announced by Zuul's MQTT reporter, predicted without any database: its trace is fetched from
// under the build's log URL into the run cache (named by the build uuid, as cache-data names Zuul runs),
// with the metadata the one Zuul build mapping gives, then predicted by the one prediction path.
import type { FetchPolicy } from "../../io/log-server.ts";
import type { SourceRun } from "../../io/sources/run-source.ts";
import { ZUUL_DSTAT_PATHS } from "../../io/sources/zuul-build.ts";
import type { BuildOutcome } from "./firehose-service.ts";
import { CacheWrites, exampleOfRun, type Predictor } from "./predict-build.ts";
import { predictExamples } from "./predict-run.ts";

/** Zuul's devstack paths, unless the user named the dstat paths (--dstat-path), which then win. */
export function zuulFetchPolicy(policy: FetchPolicy, userPaths: readonly string[] | undefined): FetchPolicy {
  return userPaths && userPaths.length > 0 ? policy : { ...policy, paths: ZUUL_DSTAT_PATHS };
}

export async function predictZuulBuild(
  p: Predictor,
  run: SourceRun,
  buildName: string,
  policy: FetchPolicy,
  signal: AbortSignal,
): Promise<BuildOutcome> {
  await p.refreshModel();
  const writes = new CacheWrites();
  const example = await exampleOfRun(p, run, signal, policy, writes);
  const saved = writes.settled(p, buildName, example.downloaded ? [run.id] : []);
  if (example.kind === "unusable") {
    await saved;
    return { kind: "skipped", reason: `Zuul build ${example.reason}` };
  }
  return { kind: "predicted", predictions: predictExamples(p, [example]), saved };
}
