/**
 * The value formats the addons' config hands to other programs, each checked as that program
 * parses it (so a value fails here, with the key and the fix, rather than in a controller after
 * `pulumi up`). One rule per format; every schema that takes such a value uses it:
 *
 * - cron schedules as a Kubernetes CronJob (and Velero's Schedule) accept them: robfig/cron v3
 *   `ParseStandard` (5 fields; minute 0-59, hour 0-23, day 1-31, month 1-12 or jan-dec, weekday
 *   0-6 or sun-sat; `*`, `?`, lists, ranges, steps; `@yearly` … `@hourly`, `@every <duration>`),
 *   minus a `TZ=`/`CRON_TZ=` prefix, which the API server refuses in `spec.schedule`;
 * - Prometheus durations (`model.ParseDuration`: units y w d h m s ms, each at most once, largest
 *   first, integers only, at most ~292 years);
 * - Go durations (`time.ParseDuration`, as a `metav1.Duration` field decodes them: units h m s ms
 *   us ns, no days);
 * - Kubernetes quantities (`resource.Quantity`: a decimal number with a binary Ki…Ei, decimal
 *   k…E or exponent suffix);
 * - e-mail addresses (a bare `local@domain` that Go's `mail.ParseAddress` and ACME servers take);
 * - S3 endpoints (the config's https-endpoint rule, config/https-endpoint.ts, without a path);
 * - S3 bucket names (AWS' naming rules, which MinIO shares).
 *
 * Each `…Problem` returns what is wrong, or undefined; the zod fields below turn it into the
 * project's "what — fix" message.
 */
import { z } from "zod";
import { httpsEndpoint } from "../config/https-endpoint";
import { parseIpv4 } from "../net/ipv4";
import { reportProblem, wrong } from "./config-fields";

// ---- cron (robfig/cron v3 ParseStandard, as Kubernetes' CronJob validation calls it) ----

interface CronBounds {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const CRON_FIELDS: readonly CronBounds[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: Object.fromEntries(MONTHS.map((m, i) => [m, i + 1])) },
  // robfig/cron v3 bounds the weekday 0-6: the crontab alias 7 for Sunday is refused.
  { name: "day of week", min: 0, max: 6, names: Object.fromEntries(DAYS.map((d, i) => [d, i])) },
];
const CRON_DESCRIPTORS = new Set([
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]);

function cronNumber(text: string, b: CronBounds): number | string {
  const named = b.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(text))
    return `"${text}" is not a number${b.names ? " or name" : ""} in the ${b.name} field`;
  return Number(text);
}

function cronPartProblem(part: string, b: CronBounds): string | undefined {
  const rangeAndStep = part.split("/");
  if (rangeAndStep.length > 2) return `"${part}" has more than one "/"`;
  const lowHigh = rangeAndStep[0]!.split("-");
  let start: number;
  let end: number;
  if (lowHigh[0] === "*" || lowHigh[0] === "?") {
    if (lowHigh.length > 1) return `"${part}" ranges from "*"`;
    start = b.min;
    end = b.max;
  } else {
    if (lowHigh.length > 2) return `"${part}" has more than one "-"`;
    const s = cronNumber(lowHigh[0]!, b);
    if (typeof s === "string") return s;
    const e = lowHigh.length === 2 ? cronNumber(lowHigh[1]!, b) : s;
    if (typeof e === "string") return e;
    start = s;
    end = e;
  }
  if (rangeAndStep.length === 2) {
    const step = rangeAndStep[1]!;
    if (!/^\d+$/.test(step) || Number(step) === 0)
      return `"${part}" has a step that is not a positive number`;
    if (lowHigh.length === 1) end = b.max; // "N/step" means "N-max/step"
  }
  if (start < b.min || end > b.max) return `"${part}" is outside ${b.min}-${b.max} in the ${b.name} field`;
  if (start > end) return `"${part}" is a range whose start is past its end`;
  return undefined;
}

/** Why Kubernetes (or Velero) would refuse `s` as a schedule, or undefined when it takes it. */
export function cronProblem(s: string): string | undefined {
  const text = s.trim();
  if (/^(CRON_)?TZ=/.test(text))
    return "sets a time zone in the schedule, which Kubernetes refuses (CronJobs take it in spec.timeZone)";
  if (text.startsWith("@")) {
    if (CRON_DESCRIPTORS.has(text)) return undefined;
    const every = /^@every (.+)$/.exec(text);
    if (every)
      return goDurationProblem(every[1]!) === undefined ? undefined : `"${every[1]}" is not a Go duration`;
    return `"${text}" is not a schedule shorthand (@yearly, @monthly, @weekly, @daily, @hourly, @every 6h)`;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} field${fields.length === 1 ? "" : "s"}, not 5`;
  for (const [k, field] of fields.entries()) {
    for (const part of field.split(",")) {
      const problem = cronPartProblem(part, CRON_FIELDS[k]!);
      if (problem) return problem;
    }
  }
  return undefined;
}

export const cronSchedule = (example = "0 3 * * *") =>
  z.string({ error: wrong("must be a string", `write a cron schedule like "${example}"`) }).superRefine(
    reportProblem((s: string) => {
      const problem = cronProblem(s);
      return problem && `is not a cron schedule Kubernetes accepts: ${problem}`;
    }, `write five fields "minute hour day month weekday" (weekday 0-6 or sun-sat), like "${example}" (03:00 UTC daily), or "@daily"`),
  );

// ---- durations ----

const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const PROM_UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
/** model.Duration is int64 nanoseconds. */
const MAX_DURATION_MS = 9_223_372_036_854;

/** Why Prometheus would refuse `s` as a (positive) duration, or undefined. */
export function prometheusDurationProblem(s: string): string | undefined {
  const m = PROM_DURATION.exec(s);
  if (s === "" || m === null)
    return "is not a Prometheus duration (units y w d h m s ms, each once, largest first, whole numbers)";
  const ms = m.slice(1).reduce((sum, n, i) => sum + (n === undefined ? 0 : Number(n) * PROM_UNIT_MS[i]!), 0);
  if (ms === 0) return "is zero";
  if (ms > MAX_DURATION_MS) return "is longer than Prometheus can count (about 292 years)";
  return undefined;
}

const GO_UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 6e10,
  h: 3.6e12,
};

/** Why Go's time.ParseDuration (a metav1.Duration field) would refuse `s` as a positive duration. */
export function goDurationProblem(s: string): string | undefined {
  const parts = [...s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (s === "" || parts.map((p) => p[0]).join("") !== s)
    return /\d+[dwy]/.test(s)
      ? "is not a Go duration: Go has no days, weeks or years (units h m s ms)"
      : "is not a Go duration (units h m s ms, like 1h30m)";
  const ns = parts.reduce((sum, p) => sum + Number(p[1]) * GO_UNIT_NS[p[2]!]!, 0);
  if (ns === 0) return "is zero";
  if (ns > 9.223372036854775e18) return "is longer than Go can count (about 292 years)";
  return undefined;
}

const durationField = (problemOf: (s: string) => string | undefined, fix: string) =>
  z.string({ error: wrong("must be a string", fix) }).superRefine(reportProblem(problemOf, fix));

/** A positive Prometheus duration, like a retention "15d". */
export const prometheusDuration = (example: string) =>
  durationField(prometheusDurationProblem, `write it like "${example}" or "1y2w" (largest unit first)`);

/** A positive Go duration (a `metav1.Duration` field), like Velero's TTL "720h". */
export const goDuration = (example: string) =>
  durationField(
    goDurationProblem,
    `write it in hours, minutes or seconds, like "${example}" (30 days = 720h)`,
  );

// ---- Kubernetes quantities ----

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|[eE]\d+)?$/;

/** Why a storage request `s` is not a positive byte count as resource.Quantity writes it. */
export function storageSizeProblem(s: string): string | undefined {
  const m = QUANTITY.exec(s);
  if (m === null)
    return /^\d+(\.\d+)?[KMGTPE]B$/i.test(s)
      ? 'is not a Kubernetes quantity (no "B": Gi = GiB, G = GB)'
      : "is not a Kubernetes quantity of bytes (a number with Ki, Mi, Gi, Ti or k, M, G, T)";
  if (Number(m[1]) === 0) return "is zero: a volume needs some space";
  return undefined;
}

export const storageSize = (example: string) =>
  z
    .string({ error: wrong("must be a string", `write a size like "${example}"`) })
    .superRefine(reportProblem(storageSizeProblem, `write it like "${example}"`));

// ---- names and addresses ----

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

/** A Kubernetes object name (DNS-1123 subdomain, as StorageClass names are). */
export const k8sSubdomain = (example: string) =>
  z
    .string({ error: wrong("must be a string", `write a name like "${example}"`) })
    .refine((s) => s.length <= 253 && s.split(".").every((label) => DNS_LABEL.test(label)), {
      error: wrong(
        "is not a valid Kubernetes name",
        `use lowercase letters, digits, "-" and "." (at most 253 characters), like "${example}"`,
      ),
    });

/** A bare e-mail address `local@domain.tld` (no display name, no angle brackets, no list). */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
export const isEmail = (s: string): boolean => s.length <= 254 && EMAIL.test(s);

export const email = z
  .string({ error: wrong("must be a string", 'write an address like "me@example.com"') })
  .refine(isEmail, {
    error: wrong(
      "is not one e-mail address",
      'write a single bare address like "me@example.com" (no name, no <>, no "mailto:", one per list entry)',
    ),
  });

/** `host:port` with a port 1-65535 (an SMTP smarthost). */
export const hostPort = (example: string) =>
  z.string({ error: wrong("must be a string", `write it like "${example}"`) }).refine(
    (s) => {
      const m = /^(.+):(\d{1,5})$/.exec(s);
      return m !== null && HOSTNAME.test(m[1]!) && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
    },
    { error: wrong("is not host:port (port 1-65535)", `write it like "${example}"`) },
  );

/**
 * An S3 API endpoint (config/https-endpoint.ts has the rule): the bucket goes in its own key, so
 * no path; the access keys go in the secrets `keyPrefix`AccessKeyId / `keyPrefix`SecretAccessKey.
 */
export const s3Endpoint = (keyPrefix: string) =>
  httpsEndpoint({
    example: "https://minio.lan:9000",
    path: "root",
    credentials: `the access keys go in the secrets ${keyPrefix}AccessKeyId and ${keyPrefix}SecretAccessKey`,
    pathWhy: "the bucket goes in its own key",
  });

/** Why S3 (AWS' rules, which MinIO applies too) would refuse `s` as a bucket name. */
export function bucketNameProblem(s: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s))
    return 'is not 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit';
  if (/\.\.|\.-|-\./.test(s)) return 'has ".." or a "." next to a "-"';
  if (parseIpv4(s) !== undefined) return "is formatted as an IP address";
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(s) || /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(s))
    return "uses a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3 …)";
  return undefined;
}

export const bucketName = (example: string) =>
  z
    .string({
      error: (issue) =>
        wrong(issue.input === undefined ? "is required" : "must be a string", `write bucket: "${example}"`),
    })
    .superRefine(reportProblem(bucketNameProblem, `name it like "${example}"`));

/**
 * Virtual-hosted addressing (`pathStyle: false`) puts the bucket in the TLS host name: a dotted
 * bucket becomes several labels, which the server's wildcard certificate does not cover.
 */
export function dottedBucketIssue(s3: { bucket: string; pathStyle: boolean }, ctx: z.RefinementCtx): void {
  if (!s3.pathStyle && s3.bucket.includes("."))
    ctx.addIssue({
      code: "custom",
      path: ["bucket"],
      input: s3.bucket,
      message: wrong(
        "has dots while pathStyle is false: over https the bucket becomes host labels its certificate does not cover",
        "set pathStyle: true or name the bucket without dots",
      ),
    });
}

/** An S3 region name (AWS' style; MinIO's default is us-east-1). */
export const s3Region = z
  .string({ error: wrong("must be a string", 'write region: "us-east-1"') })
  .regex(/^[a-z0-9-]{1,32}$/, {
    error: wrong("is not a region name", 'use lowercase letters, digits and "-", like "us-east-1"'),
  });

/** An object key prefix inside the bucket. */
export const s3Prefix = (example: string) =>
  z
    .string({ error: wrong("must be a string", `write prefix: "${example}"`) })
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/, {
      error: wrong(
        "is not an object key prefix",
        `use letters, digits, ".", "_", "-" and single "/" between parts, like "${example}"`,
      ),
    })
    .max(200);
