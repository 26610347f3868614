import type { MetricBatch, SystemInfo } from "../../../common/metrics.ts";
import { TsmonError, toErrorData } from "../../../common/errors.ts";
import type { ControlStore } from "../../storage/control-store.ts";
import type { MetricStore } from "../../storage/metric-store.ts";
import { decodeBatchJson, decodeBatchProto } from "../../ingest/decode.ts";
import { decodeSeedReport } from "../../ingest/seed-report.ts";
import { decodeColumnarReport, decodeSeriesDeclaration } from "../../ingest/columnar.ts";
import { agentIdProblem, BATCH_FIELDS, COLUMNAR_FIELDS, validateReport, type FieldNames } from "../../ingest/validate.ts";
import { reportKeyOf } from "../../ingest/report-key.ts";
import { validateCheckEvents } from "../../ingest/check-event-validate.ts";
import type { CheckEvent } from "../../../common/check-events.ts";
import { mustRecordNow, type RegistryNews } from "../../ingest/registry-update.ts";
import { LastShapes, toSeriesText, type SeriesRef } from "../../../common/series-text.ts";
import { assertNever } from "../../../common/assert-never.ts";
import type { Forward } from "../../remote-write/ingest-hook.ts";
import { type IngestReply, type IngestTask, type ReportAuth, type ReportSamples, type SampleBlock } from "../protocol/messages.ts";

export interface IngestDeps {
  store: MetricStore;
  control: ControlStore;
  retentionDays: number;
  requireAgentAuth: boolean;
  /** Other instances store reports too: an agent's previous report is read from storage
   *  (≈ 10 % of ingest's CPU per point, so only then). */
  peers: boolean;
  now: () => number;
  /** Queues each stored report for remote_write; absent when no receiver is configured. */
  forward?: Forward | undefined;
}

/** Per agent, the last series text whose names and labels passed validation (per thread). */
const checkedSeries = new LastShapes<true>();
/** Per agent, the last stream declaration that passed, with the series text made of it. */
const checkedDeclarations = new Map<string, { declaration: Uint8Array; text: string; count: number }>();
/** Agents whose declaration is remembered at most (beyond, the memory starts again). */
const MAX_DECLARATIONS = 100_000;

/** A report decoded from any transport, before it is checked. */
interface DecodedReport {
  agentId: string;
  timestampMs: number;
  samples: SampleBlock;
  /** Series still to check (undefined: this agent's shape passed before). */
  series: SeriesRef[] | undefined;
  seriesCount: number;
  systemInfo: SystemInfo | undefined;
  droppedBatches: number;
  /** The exactly-once key, as sent (checked by reportKeyOf). */
  streamId: string | undefined;
  sequence: number | undefined;
  checkEvents: CheckEvent[];
  fields: FieldNames;
  /** Remembers the shape as checked, once the whole report passed. */
  remember(): void;
}

/**
 * One report, end to end on the ingest side: decode → authenticate → validate → durable
 * write. A refused report stores nothing. A valid one is handed to `accepted` as soon as its
 * write is queued, so the agent window and the rules see it while the commit is in flight;
 * the reply (the agent's acknowledgement) waits for durability. The caller renews the
 * control store's read snapshot first: tokens and last_seen must be read as they are now.
 */
export async function ingestReport(task: IngestTask, deps: IngestDeps, accepted: (report: ReportSamples) => void): Promise<IngestReply> {
  try {
    const nowMs = deps.now();
    const report = task.type === "report-columns" ? fromColumns(task, nowMs)
      : task.type === "report-seed" ? fromSeed(task, nowMs) : fromBatch(decode(task, nowMs));
    // The id is checked before anything looks it up: an id past LMDB's key limit cannot be a key.
    const idProblem = agentIdProblem(report.agentId);
    if (idProblem) throw new TsmonError("INVALID_ARGUMENT", `agent_id: ${idProblem}`);
    // A report-batch is built inside the server (the cert-checker), never taken off the wire.
    if (deps.requireAgentAuth && task.type !== "report-batch") authenticate(report.agentId, task.auth, deps.control);
    validateReport({ ...report, checkEvents: report.checkEvents.length }, nowMs, deps.retentionDays, report.fields);
    validateCheckEvents(report.checkEvents, nowMs, deps.retentionDays);
    const key = reportKeyOf(report.streamId, report.sequence);
    report.remember();
    const { agentId, samples } = report;
    const prev = deps.control.getAgent(agentId);
    // The registry's last_seen lags by up to a flush; storage knows a report another PM2
    // instance stored a moment ago, which this instance's window has not seen.
    const prevLastSeen = Math.max(prev?.last_seen ?? 0, deps.peers ? deps.store.newestBefore(agentId, report.timestampMs) : 0);
    // A report of check events alone has no samples to write, forward or window.
    const hasPoints = samples.values.length > 0;
    const written = hasPoints ? deps.store.writeBlock(agentId, samples, key) : Promise.resolve(true);
    // remote_write: queued beside the write (a resend too: its first queueing may be what a
    // crash cut off), and acknowledged only once both are durable.
    const forwarded = hasPoints ? deps.forward?.(agentId, samples) : undefined;
    // Events are keyed by what they are, so a resend's rewrite stores nothing twice; written
    // even when the points were a duplicate (CheckEventStore).
    const events = deps.control.checkEvents.write(agentId, report.checkEvents);
    // Should the write fail, the agent retries the report and the window takes it again:
    // rules skip samples they have seen, and a latest value only moves forward.
    if (hasPoints) accepted({ agentId, samples, prevLastSeen });
    // Not accepted, so never announced to the live feed: its acknowledgement must not wait for that.
    const quiet = hasPoints ? {} : { unannounced: true as const };
    const [fresh] = await Promise.all([written, forwarded, events]);
    if (!fresh) {
      // A resend (its acknowledgement was lost): acknowledged again, counted nowhere again.
      return { type: "stored", agentId, points: 0, duplicate: true, ...quiet };
    }
    // Only after the points are durable: a failed write must neither move last_seen (the
    // agent would look alive) nor count the agent's dropped batches once per retry.
    const news: RegistryNews = { seenMs: lastTimestamp(report), systemInfo: report.systemInfo, droppedBatches: report.droppedBatches };
    if (!mustRecordNow(prev, news)) return { type: "stored", agentId, points: samples.values.length, lastSeenMs: news.seenMs, ...quiet };
    await deps.control.touchAgent(agentId, news.seenMs, news.systemInfo, news.droppedBatches);
    return { type: "stored", agentId, points: samples.values.length, ...quiet };
  } catch (err) {
    return { type: "refused", error: toErrorData(err) };
  }
}

function decode(task: Exclude<IngestTask, { type: "report-columns" | "report-seed" }>, nowMs: number): MetricBatch {
  switch (task.type) {
    case "report-proto": return decodeBatchProto(task.bytes, nowMs);
    case "report-json": return decodeBatchJson(task.body, nowMs);
    case "report-batch": return task.batch;
    default: return assertNever(task);
  }
}

/** A seed's report, its errors named as the seed's body names its fields. */
function fromSeed(task: Extract<IngestTask, { type: "report-seed" }>, nowMs: number): DecodedReport {
  const { batch, fields } = decodeSeedReport(task.body, task.shape, task.tokenAgent, nowMs);
  return fromBatch(batch, fields);
}

function fromBatch(batch: MetricBatch, fields: FieldNames = BATCH_FIELDS): DecodedReport {
  const n = batch.points.length;
  const refs = new Array<SeriesRef>(n);
  const samples: SampleBlock = { series: "", timestamps: new Float64Array(n), values: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const p = batch.points[i]!;
    refs[i] = [p.metric, p.labels];
    samples.timestamps[i] = p.timestampMs;
    samples.values[i] = p.value;
  }
  samples.series = toSeriesText(refs);
  const checked = checkedSeries.get(batch.agentId, samples.series) ?? false;
  return {
    agentId: batch.agentId, timestampMs: batch.timestampMs, samples, series: checked ? undefined : refs, seriesCount: n,
    systemInfo: batch.systemInfo, droppedBatches: batch.droppedBatches ?? 0, streamId: batch.streamId, sequence: batch.sequence,
    checkEvents: batch.checkEvents ?? [], fields,
    remember: () => { if (!checked) checkedSeries.set(batch.agentId, samples.series, true); },
  };
}

/** A stream frame: its series come from the declaration, parsed only when this thread has
 *  not checked the same declaration for the agent before (a byte comparison). */
function fromColumns(task: Extract<IngestTask, { type: "report-columns" }>, nowMs: number): DecodedReport {
  const r = decodeColumnarReport(task.frame, nowMs);
  const known = checkedDeclarations.get(r.agentId);
  const hit = known !== undefined && Buffer.compare(known.declaration, task.declaration) === 0;
  const series = hit ? undefined : decodeSeriesDeclaration(task.declaration);
  const text = hit ? known.text : toSeriesText(series!);
  const count = hit ? known.count : series!.length;
  const timestamps = r.timestamps ?? new Float64Array(r.values.length).fill(r.timestampMs);
  return {
    agentId: r.agentId, timestampMs: r.timestampMs, samples: { series: text, timestamps, values: r.values }, series, seriesCount: count,
    systemInfo: r.systemInfo, droppedBatches: r.droppedBatches, streamId: r.streamId, sequence: r.sequence, checkEvents: r.checkEvents,
    fields: COLUMNAR_FIELDS,
    remember: () => {
      if (hit) return;
      if (!checkedDeclarations.has(r.agentId) && checkedDeclarations.size >= MAX_DECLARATIONS) checkedDeclarations.clear();
      checkedDeclarations.set(r.agentId, { declaration: task.declaration, text, count });
    },
  };
}

function authenticate(agentId: string, auth: ReportAuth, control: ControlStore): void {
  if (!auth.token) {
    throw new TsmonError("UNAUTHENTICATED", "this server requires agent authentication: send 'authorization: Bearer <token>' (agent config auth_token)");
  }
  if (control.whitelist.tokenMatches(agentId, auth.token)) return;
  if (control.whitelist.agentOfToken(auth.token) !== undefined) {
    throw new TsmonError("PERMISSION_DENIED", `the token does not belong to agent '${agentId}'`);
  }
  throw new TsmonError("UNAUTHENTICATED", "unknown agent token: add the agent with POST /v1/agents/whitelist and use the token it returns");
}

function lastTimestamp({ timestampMs, samples }: DecodedReport): number {
  let last = timestampMs;
  for (const ts of samples.timestamps) if (ts > last) last = ts;
  return last;
}
