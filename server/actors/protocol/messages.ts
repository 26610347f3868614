import type { MessagePort } from "node:worker_threads";
import type { Labels, MetricBatch } from "../../../common/metrics.ts";
import type { ErrorData } from "../../../common/errors.ts";
import type { AlertEvent, AlertRule, Observation } from "../../alerts/types.ts";
import type { ProbeOutcome } from "../../certs/types.ts";
import type { SampleBlock } from "../../../common/series-text.ts";
import type { SeedShape } from "../../ingest/seed-report.ts";

export type { SampleBlock };

/*
 * Every message that crosses a thread, declared once. All are plain data
 * (structured-clone safe), discriminated on `type`, one message per report.
 */

/** Credentials that came with a report (gRPC metadata or HTTP header). */
export interface ReportAuth {
  /** Bearer token, without the "Bearer " prefix. */
  token?: string;
}

// ---- ingest pool (piscina): main thread → ingest worker ----

export type IngestTask =
  | { type: "report-proto"; bytes: Uint8Array; auth: ReportAuth }
  | { type: "report-json"; body: unknown; auth: ReportAuth }
  /** A seed's JSON (`POST /api/report`: a batch, `POST /api/v1/metrics`: one flat sample);
   *  `tokenAgent`: the agent its bearer token belongs to, the default agent id. */
  | { type: "report-seed"; shape: SeedShape; body: unknown; tokenAgent?: string; auth: ReportAuth }
  /** A ReportStream frame with the series its stream declared for it (scanFrame). */
  | { type: "report-columns"; frame: Uint8Array; declaration: Uint8Array; auth: ReportAuth }
  /** A batch built inside the server (the cert-checker's samples): trusted, so not authenticated. */
  | { type: "report-batch"; batch: MetricBatch };

/** A report on its way to an ingest thread; `arrivedAt` (preciseNow()) travels with it
 *  for the alert-latency figures, `job` (the pool's number for it) to match its announcement. */
export interface IngestJob { task: IngestTask; arrivedAt: number; job: number }

/** What an ingest thread is given: the reports that arrived together, each answered on its own. */
export type IngestBatch = IngestJob[];

/** The answer to one report, once it is durable (or refused, with nothing stored).
 *  `lastSeenMs`: the registry's last_seen still to move there (LastSeenWriter); absent when
 *  the thread recorded the report in the registry itself. */
export type IngestReply =
  /** `unannounced`: nobody watched live when it was accepted, so no announcement comes. */
  | { type: "stored"; agentId: string; points: number; lastSeenMs?: number; unannounced?: true; /** A resend of a report stored before: nothing new stored. */ duplicate?: true }
  | { type: "refused"; error: ErrorData };

/** A report that passed validation, announced to the main thread (for the live feed) while
 *  its durable write is in flight; only while the main thread wants them (a live client here
 *  or at a peer): cloning every report to it cost ≈ 7 % of ingest's CPU. */
export interface AcceptedReport { agentId: string; samples: SampleBlock; job: number }

/** Ingest thread → main thread (posted on the worker's parentPort, beside piscina's task replies). */
export interface IngestAccepted { type: "accepted"; reports: AcceptedReport[] }

/** Settings an ingest worker needs, passed once as workerData. */
export interface IngestWorkerData {
  dataDir: string;
  retentionDays: number;
  requireAgentAuth: boolean;
  /** Other server instances write the same data dir (PM2 cluster): see IngestDeps.peers. */
  peers: boolean;
  /** Where accepted reports go on to the agent-window shards. */
  windowFeed: WindowFeedSettings;
  /** [0] is 1 while the main thread wants accepted reports' samples (IngestPool.announceSamples). */
  samplesWanted: Int32Array;
  /** remote_write receivers are configured: queue every stored report (remote-write/ingest-hook.ts). */
  remoteWrite?: boolean;
}

// ---- a report's samples, wherever they go on from ingest ----

/** One accepted report's samples for its agent's window. `prevLastSeen`: the agent's last
 *  report before this one, from the shared registry (newer than the window's: it missed some). */
export interface ReportSamples { agentId: string; samples: SampleBlock; prevLastSeen: number }

/** When a report reached each stage on its way to alert events (preciseNow(), any thread). */
export interface ReportTimes { arrivedAt: number; acceptedAt: number; appliedAt?: number }

// ---- ingest threads → agent-window shards (over BroadcastChannels named per shard and ingest slot, window-feed.ts) ----

/** An accepted report on its way to its agent-window shard. */
export interface WindowReport extends ReportSamples { times: ReportTimes }

/** What goes over a shard's channel: the reports of one ingest batch that belong to it, and
 *  the shard's total of dropped reports when they were posted (see AgentWindow). */
export interface WindowFeedMessage { type: "samples-batch"; reports: WindowReport[]; droppedBefore: number }

/** Shared by the main thread, every ingest thread and every window shard. */
export interface WindowFeedSettings {
  channel: string;
  shards: number;
  /** Messages a shard may have waiting before ingest drops (and counts) the next. */
  maxDepth: number;
  /** Channel names per shard, one per ingest thread's slot (window-feed.ts). */
  slots: number;
  /** Per shard, Int32 counters (depth, dropped, handled, dropped and stored), then the next ingest slot; shared across threads. */
  counters: SharedArrayBuffer;
}

// ---- agent-window shards (comlink): main thread → shard ----

/** What the agent-window core handles. */
export type WindowRequest =
  /** `droppedBefore`: the shard's dropped-reports total when the report was sent to it. */
  | ({ type: "samples"; droppedBefore?: number } & ReportSamples)
  /** `metric`: only that metric's series (the reachability matrix asks every agent for one). */
  | { type: "latest"; agentId: string; metric?: string }
  | { type: "rules"; rules: AlertRule[] }
  | { type: "stats" };

/** What the main thread sends a window shard's thread: the core's questions but `samples`
 *  (reports come from the ingest threads, see window-feed.ts), plus the shell's ports. */
export type WindowShardRequest =
  | Exclude<WindowRequest, { type: "samples" }>
  /** The port to evaluator shard `shard` (replaces an older one after either side restarted). */
  | { type: "evaluator-port"; shard: number; port: MessagePort };

/** The latest value of one series. */
export interface LatestValue {
  metric: string;
  labels: Labels;
  timestamp: number;
  value: number;
}

export interface WindowStats {
  agents: number;
  series: number;
  /** Series that at least one rule watches, samples held in rule windows, and an estimate of bytes per agent. */
  ruleSeries: number;
  samplesHeld: number;
  bytesPerAgent: number;
}

/** The reply each window request gets. */
export interface WindowReplies {
  samples: { type: "applied"; series: number; observations: Observation[] };
  "evaluator-port": { type: "connected" };
  rules: { type: "rules-set"; rules: number };
  latest: { type: "latest"; agentId: string; lastReport: number | null; values: LatestValue[] };
  stats: { type: "stats" } & WindowStats;
}

export type WindowReply<T extends WindowRequest["type"] = WindowRequest["type"]> = WindowReplies[T];

export interface WindowWorkerData {
  dataDir: string;
  /** How far back a shard reads storage when it first sees an agent. */
  rebuildHorizonMs: number;
  /** Evaluator shards the observations are spread over (by the same hash of agent_id). */
  evaluatorShards: number;
  /** Where the shard's reports come from. */
  windowFeed: WindowFeedSettings;
}

// ---- rule-evaluator shards: main thread → evaluator (comlink); window shard → evaluator
// (`observe`, over a port of their own); evaluator → main (`report-events`, over a port) ----

/** What the rule-evaluator core handles. */
export type EvaluatorRequest =
  /** One report's observations (from a window shard; `times` only passes through). */
  | { type: "observe"; agentId: string; observations: Observation[]; times?: ReportTimes }
  | { type: "rules"; rules: AlertRule[] }
  /** Time-based rules (agent_offline): evaluated against the agent registry. */
  | { type: "tick"; nowMs: number };

/** What the main thread sends an evaluator shard's thread: the core's messages but `observe`
 *  (which comes from the window shards), plus the ports its shell wires. */
export type EvaluatorShardRequest =
  | Exclude<EvaluatorRequest, { type: "observe" }>
  /** The port window shard `shard` sends `observe` messages on (replaces an older one). */
  | { type: "window-port"; shard: number; port: MessagePort }
  /** The port to send `report-events` on, to the main thread. */
  | { type: "events-port"; port: MessagePort };

export interface EvaluatorReplies {
  observe: { type: "events"; events: AlertEvent[] };
  rules: { type: "rules-set"; rules: number };
  tick: { type: "events"; events: AlertEvent[] };
  "window-port": { type: "connected" };
  "events-port": { type: "connected" };
}

/** Evaluator shard → main thread: the events one report caused, with its stage times. */
export interface ReportEvents { type: "report-events"; events: AlertEvent[]; times?: ReportTimes }

export interface EvaluatorWorkerData {
  dataDir: string;
}

// ---- notifier (comlink, one thread; only the lease holder delivers) ----

export type NotifierRequest =
  /** New events are in the outbox: run the pipeline now rather than at the next tick
   *  (answered once the pass has routed them and started its sends). */
  | { type: "kick" }
  /** Send a test message through a channel and return its answer. */
  | { type: "test"; channelId: string }
  /** Delivery outcomes by channel, result and failure reason since the last call (for /metrics). */
  | { type: "stats" };

export interface NotifierReplies {
  kick: { type: "ticked" };
  test: { type: "tested"; result: { ok: boolean; retryable: boolean; status?: number; detail: string } | null };
  stats: { type: "stats"; outcomes: { channel: string; result: string; reason: string; count: number }[] };
}

export interface NotifierWorkerData {
  dataDir: string;
  /** Channels and silence windows from server.toml, with their ids. */
  configChannels: unknown[];
  configSilences: unknown[];
  groupWaitMs: number;
  aggregationWindowMs: number;
  maxDeliveryAgeMs: number;
  tickMs: number;
  /** Retry timing (tests shorten it). */
  quickBaseMs: number;
  slowBaseMs: number;
}

// ---- cert-checker pool (piscina): main thread → cert-checker worker ----

export type CertCheckerTask =
  /** One TLS handshake with SNI `host` to one resolved address of it. */
  | { type: "probe"; host: string; ip: string; port: number; timeoutMs: number };

export type CertCheckerReply = { type: "probed"; outcome: ProbeOutcome };

export interface CertCheckerWorkerData {
  /** PEM certificates of `[cert_check] ca_file`, trusted besides the system roots. */
  extraCaPem: string | null;
}


/** What the sealer thread is started with (see sealer.worker.ts). */
export interface SealerWorkerData {
  dataDir: string;
}

/** One pass of the sealer thread: days to compact (fresh data), then days to seal. */
export interface SealerPass {
  compact: string[];
  seal: string[];
}

/** One day's outcome in a compaction. */
export type CompactResult = { day: string; generations: number; points: number; ms: number } | { day: string; error: string };

export interface SealerPassResult {
  compacted: CompactResult[];
  sealed: SealResult[];
}

/** One day's outcome in a sealing pass. */
export type SealResult = { day: string; points: number; bytes: number; rollupBytes: number; ms: number } | { day: string; error: string };
