import { z } from "zod";
import { CONDITIONS, RULE_TYPES, ruleIssues, type RuleType } from "../alerts/conditions/registry.ts";
import { ruleTableSchema, severitySchema } from "../alerts/rule-fields.ts";
import { LOG_FORMATS } from "../../common/log-format.ts";
import { LIMITS } from "../ingest/limits.ts";
import { CHANNEL_TYPES } from "../notify/channels/registry.ts";
import { remoteName, remoteWriteSchema } from "../remote-write/config-schema.ts";

/*
 * The whole server.toml, declared once. Every section of config/server.example.toml
 * is known here, including those whose features arrive later, so a full file always
 * loads. Objects are strict: an unknown key is an error, reported with its path.
 */

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();
/** A worker-thread pool: each thread costs ≈ 30–50 MB, and past a few per core they only contend. */
const threads = positiveInt.max(64, "at most 64 threads: each costs memory and more than a few per core only contend");
const severity = severitySchema;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (24-hour)");

type RuleSchemas = { [T in RuleType]: ReturnType<typeof ruleTableSchema<T, (typeof CONDITIONS)[T]["fields"]>> };
/** One strict table per rule type, from the condition registry (conditions/registry.ts). */
const ruleSchemas = RULE_TYPES.map((type) => ruleTableSchema(type, CONDITIONS[type].fields)) as RuleSchemas[RuleType][];
export const alertRuleSchema = z.discriminatedUnion("type", ruleSchemas as [RuleSchemas[RuleType], ...RuleSchemas[RuleType][]]);

/** Channel tables are checked here only for what every channel shares; each plugin validates the rest. */
export const channelSchema = z.looseObject({
  type: z.enum(CHANNEL_TYPES),
  id: z.string().min(1).max(128).optional(),
  name: z.string().min(1).max(200).optional(),
  min_severity: severity.default("info"),
  send_resolved: z.boolean().default(true),
});

export const silenceWindowSchema = z.strictObject({
  start_time: hhmm,
  end_time: hhmm,
  recurrence: z.enum(["daily", "weekdays", "weekly", "once"]).default("daily"),
  days: z.array(z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])).optional(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD").optional(),
  timezone: z.string().default("UTC"),
});

export const serverConfigSchema = z.strictObject({
  grpc_port: port.default(9090),
  http_port: port.default(8080),
  bind_address: z.string().default("0.0.0.0"),
  data_dir: z.string().min(1).default("data"),
  retention_days: positiveInt.default(7),
  /** Days the 1 min / 1 h rollups of sealed days are kept (step queries reach back this far). */
  rollup_retention_days: positiveInt.default(90),
  /** How often fresh data is compacted into hour chunks (the raw tail is about this long). */
  compact_interval_secs: positiveInt.max(3600).default(10),
  /** Days alert history and the notification delivery log are kept. */
  history_retention_days: positiveInt.default(365),
  require_agent_auth: z.boolean().default(false),
  log_level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** `auto`: readable text lines on a terminal, JSON lines otherwise (files, journald, containers). */
  log_format: z.enum(LOG_FORMATS).default("auto"),
  /** An agent not heard from for this long is shown as inactive. */
  agent_active_secs: positiveInt.default(60),

  auth: z.strictObject({
    /** At least 32 characters, like the generated key: a short HS256 key can be brute-forced. */
    jwt_secret: z.string().min(32).optional(),
    token_expire_secs: positiveInt.default(86400),
    default_username: z.string().min(1).default("admin"),
    default_password: z.string().min(1).optional(),
    login_failure_threshold: positiveInt.default(5),
    login_lock_duration_secs: positiveInt.default(300),
  }).prefault({}),

  tls: z.strictObject({
    enabled: z.boolean().default(false),
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
  }).prefault({}),

  http: z.strictObject({
    rate_limit_per_minute: positiveInt.default(1000),
    body_limit_bytes: positiveInt.default(4 * 1024 * 1024),
    /** On shutdown, keep serving with /readyz at 503 this long, so balancers stop routing first. */
    shutdown_grace_ms: z.number().int().min(0).max(60_000).default(0),
  }).prefault({}),

  alert: z.strictObject({
    rules: z.array(alertRuleSchema).default([]),
  }).prefault({}),

  notification: z.strictObject({
    /** A group's first message waits this long for company (Alertmanager's group_wait); 0 pages at once. */
    group_wait_secs: z.number().int().min(0).max(3600).default(0),
    /** Later events of a group within this many seconds after its first message go out as one follow-up. */
    aggregation_window_secs: z.number().int().min(0).default(60),
    max_delivery_age_secs: positiveInt.default(86400),
    /** Quick retries wait this × 1, × 2 (3 tries); then the slow schedule starts at slow_retry_secs, doubling to 15 min. */
    quick_retry_ms: positiveInt.default(1000),
    slow_retry_secs: positiveInt.default(60),
    channels: z.array(channelSchema).default([]),
    silence_windows: z.array(silenceWindowSchema).default([]),
  }).prefault({}),

  cert_check: z.strictObject({
    enabled: z.boolean().default(true),
    default_interval_secs: positiveInt.default(86400),
    tick_secs: positiveInt.default(60),
    connect_timeout_secs: positiveInt.default(10),
    max_concurrent: positiveInt.default(10),
    ca_file: z.string().optional(),
  }).prefault({}),

  actors: z.strictObject({
    /** Threads decoding, validating and writing reports. */
    ingest_threads: threads.default(1),
    /** Reports waiting for an ingest thread before the server answers RESOURCE_EXHAUSTED. */
    ingest_queue: positiveInt.max(100_000).default(512),
    /** Bytes of reports and HTTP bodies held at once (arrived, not yet answered); beyond, RESOURCE_EXHAUSTED / 429.
     *  A report decodes to several times its size, so 64 MiB keeps a burst of large ones within ≈ 0.5 GB. */
    ingest_queue_bytes: z.number().int().min(2 * LIMITS.maxReportBytes, `at least ${2 * LIMITS.maxReportBytes} bytes: twice the largest report`)
      .max(16 * 1024 ** 3).default(64 * 1024 * 1024),
    /** Agent-window shards (worker threads), agents spread by a stable hash of agent_id. */
    window_shards: threads.default(1),
    /** Messages waiting for one shard before it pushes back (requests fail as retryable;
     *  reports for an agent-window shard are dropped and counted, see window-feed.ts). */
    mailbox_size: positiveInt.max(1_000_000).default(10000),
    evaluator_shards: threads.default(1),
    notifier_threads: threads.default(1),
    cert_checker_threads: threads.default(1),
    /** More crashes than this within one minute stop the process (so PM2 restarts it). */
    max_restarts_per_minute: positiveInt.default(5),
  }).prefault({}),

  /** Agent releases served for self-update (docs/agent-update.md). Not `agent_…`: TSMON_AGENT_ names agent variables. */
  updates: z.strictObject({
    /** PEM ed25519 private key (openssl genpkey -algorithm ed25519) the server signs uploaded bundles with. */
    signing_key_file: z.string().min(1).optional(),
    /** PEM ed25519 public key pre-signed uploads are checked against (default: the signing key's public half). */
    public_key_file: z.string().min(1).optional(),
    /** Largest bundle POST /v1/agent/releases accepts. */
    max_bundle_bytes: positiveInt.max(1024 ** 3).default(64 * 1024 * 1024),
  }).prefault({}),

  /** The agent mesh: every agent probes every other (docs/checks.md, "Server-managed checks"). */
  reachability: z.strictObject({
    mesh: z.boolean().default(false),
    /** Peers each agent probes at most, the first by agent id. */
    mesh_max_targets: z.number().int().min(1).max(10_000).default(100),
    mesh_interval_secs: z.number().int().min(1).max(86_400).default(30),
  }).prefault({}),

  /** Receivers that get every stored point over Prometheus remote-write (docs/remote-write.md). */
  remote_write: z.array(remoteWriteSchema).default([]),
}).superRefine((cfg, ctx) => {
  if (cfg.rollup_retention_days < cfg.retention_days) {
    ctx.addIssue({ code: "custom", path: ["rollup_retention_days"], message: `must be at least retention_days (${cfg.retention_days}): rollups are made from the data retention keeps` });
  }
  if (cfg.tls.enabled && (!cfg.tls.cert_file || !cfg.tls.key_file)) {
    ctx.addIssue({ code: "custom", path: ["tls"], message: "enabled = true needs cert_file and key_file" });
  }
  const remoteNames = cfg.remote_write.map(remoteName);
  for (const [i, name] of remoteNames.entries()) {
    if (remoteNames.indexOf(name) !== i) ctx.addIssue({ code: "custom", path: ["remote_write", i, "name"], message: `'${name}' is used by remote_write ${remoteNames.indexOf(name)} too: give each receiver its own name (it names its queue)` });
  }
  for (const [i, rule] of cfg.alert.rules.entries()) {
    for (const { field, message } of ruleIssues(rule)) ctx.addIssue({ code: "custom", path: ["alert", "rules", i, field], message });
  }
});

export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export type RawServerConfig = z.output<typeof serverConfigSchema>;
export type AlertRuleConfig = z.output<typeof alertRuleSchema>;
export type ChannelConfig = z.output<typeof channelSchema>;
export type SilenceWindowConfig = z.output<typeof silenceWindowSchema>;
