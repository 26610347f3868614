import { z } from "zod";

/*
 * One `[[remote_write]]` table: a Prometheus remote-write receiver (VictoriaMetrics,
 * Prometheus, Mimir, Thanos …) that gets every point tsmon stores. docs/remote-write.md
 * explains each field and the name/label mapping.
 */

const labelNameRule = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
  .refine((name) => !name.startsWith("__"), "names starting with __ are reserved by Prometheus");

const remoteUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}, "expected an http:// or https:// URL such as http://127.0.0.1:8428/api/v1/write");

export const remoteWriteSchema = z.strictObject({
  url: remoteUrl,
  /** Names this receiver's queue cursor and its /metrics series; default: host and path of `url`. */
  name: z.string().regex(/^[a-zA-Z0-9_.:/-]{1,128}$/, "1–128 characters of letters, digits and _ . : / -").optional(),
  bearer_token: z.string().min(1).optional(),
  basic_auth: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
  tls: z.strictObject({
    /** PEM file of the CA that signed the receiver's certificate (a private CA); the system's CAs otherwise. */
    ca_file: z.string().min(1).optional(),
    /** Client certificate and key, for receivers that require mutual TLS. */
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    /** Accept any certificate: for a test receiver only, the connection can then be intercepted. */
    insecure_skip_verify: z.boolean().default(false),
  }).prefault({}),
  timeout_secs: z.number().int().positive().max(600).default(30),
  /** Bytes of undelivered reports kept on disk for this receiver; past it the oldest are dropped (counted). */
  queue_max_bytes: z.number().int().min(1024 * 1024, "at least 1 MiB (1048576)").max(1024 ** 4).default(256 * 1024 * 1024),
  /** Samples per request at most (Prometheus' own sender sends 2,000; VictoriaMetrics takes far more). */
  batch_max_samples: z.number().int().positive().max(1_000_000).default(5000),
  /** Retries wait 0.5 s, 1 s, 2 s … up to this. */
  max_backoff_secs: z.number().int().positive().max(3600).default(30),
  /** The label that carries the agent id (Prometheus' usual name for "which host"). */
  instance_label: labelNameRule.default("instance"),
  /** Also keep the agent id as `agent_id` (the name tsmon's own /metrics/fleet uses). */
  agent_id_label: z.boolean().default(true),
  /** Put before every metric name, e.g. "tsmon_" (cpu.usage → tsmon_cpu_usage). */
  metric_prefix: z.string().regex(/^[a-zA-Z0-9_:]*$/, "letters, digits, _ and : only").default(""),
  /** Labels added to every series sent (e.g. { region = "eu-1" }); a sample's own label of the same name wins. */
  external_labels: z.record(z.string(), z.string()).superRefine((labels, ctx) => {
    for (const name of Object.keys(labels)) {
      const problem = labelNameRule.safeParse(name);
      if (!problem.success) ctx.addIssue({ code: "custom", path: [name], message: `'${name}': ${problem.error.issues[0]!.message}` });
    }
  }).default({}),
}).superRefine((rw, ctx) => {
  if (rw.bearer_token && rw.basic_auth) ctx.addIssue({ code: "custom", path: ["basic_auth"], message: "give bearer_token or basic_auth, not both" });
  if (Boolean(rw.tls.cert_file) !== Boolean(rw.tls.key_file)) ctx.addIssue({ code: "custom", path: ["tls"], message: "cert_file and key_file go together (mutual TLS)" });
});

export type RemoteWriteConfig = z.output<typeof remoteWriteSchema>;

/** The receiver's name: its own `name`, else host and path of its URL (stable across restarts). */
export function remoteName(rw: { url: string; name?: string | undefined }): string {
  if (rw.name) return rw.name;
  // Zod may run the file's cross-field checks over a table whose url it already refused.
  if (!URL.canParse(rw.url)) return rw.url;
  const url = new URL(rw.url);
  return `${url.host}${url.pathname}`;
}
