import type { MetricBatch } from "../../common/metrics.ts";
import { TsmonError, toErrorData } from "../../common/errors.ts";
import type { ControlStore } from "../storage/control-store.ts";
import type { MetricStore } from "../storage/metric-store.ts";
import { decodeBatchJson, decodeBatchProto } from "../ingest/decode.ts";
import { validateBatch } from "../ingest/validate.ts";
import { LastShapes, toSeriesText, type SeriesRef } from "../../common/series-text.ts";
import { assertNever, type IngestReply, type IngestTask, type ReportAuth, type ReportSamples, type SampleBlock } from "./messages.ts";

export interface IngestDeps {
  store: MetricStore;
  control: ControlStore;
  retentionDays: number;
  requireAgentAuth: boolean;
  now: () => number;
}

/** Per agent, the last series text whose names and labels passed validation (per thread). */
const checkedSeries = new LastShapes<true>();

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
    const batch = decode(task, nowMs);
    // A report-batch is built inside the server (the cert-checker), never taken off the wire.
    if (deps.requireAgentAuth && task.type !== "report-batch") authenticate(batch.agentId, task.auth, deps.control);
    const samples = toSampleBlock(batch);
    const seriesChecked = checkedSeries.get(batch.agentId, samples.series) ?? false;
    validateBatch(batch, nowMs, deps.retentionDays, seriesChecked);
    if (!seriesChecked) checkedSeries.set(batch.agentId, samples.series, true);
    const prevLastSeen = deps.control.getAgent(batch.agentId)?.last_seen ?? 0;
    const written = deps.store.writeBlock(batch.agentId, samples);
    // Should the write fail, the agent retries the report and the window takes it again:
    // rules skip samples they have seen, and a latest value only moves forward.
    accepted({ agentId: batch.agentId, samples, prevLastSeen });
    await written;
    // Only after the points are durable: a failed write must neither move last_seen (the
    // agent would look alive) nor count the agent's dropped batches once per retry.
    await deps.control.touchAgent(batch.agentId, lastTimestamp(batch), batch.systemInfo, batch.droppedBatches ?? 0);
    return { type: "stored", agentId: batch.agentId, points: batch.points.length };
  } catch (err) {
    return { type: "refused", error: toErrorData(err) };
  }
}

function decode(task: IngestTask, nowMs: number): MetricBatch {
  switch (task.type) {
    case "report-proto": return decodeBatchProto(task.bytes, nowMs);
    case "report-json": return decodeBatchJson(task.body, nowMs);
    case "report-batch": return task.batch;
    default: return assertNever(task);
  }
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

function lastTimestamp(batch: MetricBatch): number {
  let last = batch.timestampMs;
  for (const p of batch.points) if (p.timestampMs > last) last = p.timestampMs;
  return last;
}

function toSampleBlock(batch: MetricBatch): SampleBlock {
  const n = batch.points.length;
  const refs = new Array<SeriesRef>(n);
  const block: SampleBlock = { series: "", timestamps: new Float64Array(n), values: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const p = batch.points[i]!;
    refs[i] = [p.metric, p.labels];
    block.timestamps[i] = p.timestampMs;
    block.values[i] = p.value;
  }
  block.series = toSeriesText(refs);
  return block;
}
