// The message Zuul's MQTT reporter publishes when a buildset is reported (start, success, failure, …):
// the change it ran for and one entry per job, with the build's uuid, result and log URL once it ran.
// Anyone who can publish on the broker can send one, so the envelope is checked and bounded here; each
// build is checked by the one Zuul build mapping (sources/zuul-build.ts) when it is one we predict.
// Fields we do not use are dropped (newer Zuul releases add `changes`, `retry_builds`, `artifacts`, …).
import { z } from "zod";

const MAX_BUILDS = 1000;

const text = (max: number) => z.string().max(max);
/** Zuul sends change and patchset as the change's own values: numbers, strings, or "" for a branch push. */
const changeField = z
  .union([text(64), z.number().int().nonnegative()])
  .nullish()
  .transform((v) => (v === undefined || v === null || v === "" ? null : String(v)));

const zuulReportSchema = z.object({
  action: text(64),
  tenant: text(200),
  pipeline: text(200),
  project: text(400),
  branch: text(400).nullish(),
  change: changeField,
  patchset: changeField,
  buildset: z.object({
    uuid: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "is not a buildset uuid")
      .nullish(),
    // Each build stays raw until we know it is one of ours; then the build mapping validates all of it.
    builds: z.array(z.looseObject({ job_name: text(512) })).max(MAX_BUILDS),
  }),
});

export type ZuulReport = z.infer<typeof zuulReportSchema>;

/** A message is Zuul's when it carries a buildset; anything else is another publisher's. */
export function looksLikeZuulReport(fields: Record<string, unknown>): boolean {
  return "buildset" in fields;
}

/** The report, or one line naming the first field that is wrong. */
export function parseZuulReport(fields: Record<string, unknown>): ZuulReport | string {
  const parsed = zuulReportSchema.safeParse(fields);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "message";
  return `Zuul report field ${where}: ${issue.message}`;
}
