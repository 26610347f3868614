import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import type { Labels, MetricBatch, MetricPoint, SystemInfo } from "../../common/metrics.ts";
import { TsmonError } from "../../common/errors.ts";
import { reportJsonSchema } from "./report-json.ts";
import { fromCheckEventJson, fromCheckEventMessage, type CheckEventMessage } from "./check-event-decode.ts";

// int64 as plain numbers: epoch milliseconds fit in a double exactly.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const PROTO_FILE = fileURLToPath(new URL("../../proto/metrics.proto", import.meta.url));
const root = protobuf.loadSync(PROTO_FILE);
const BatchType = root.lookupType("oxmon.MetricBatchProto");
const ResponseType = root.lookupType("oxmon.ReportResponse");
const AckType = root.lookupType("oxmon.ReportAckProto");

interface PointMessage { timestampMs?: number; agentId?: string; metricName?: string; value?: number; labels?: Record<string, string> }
interface SystemInfoMessage {
  hostname?: string; os?: string; kernel?: string; arch?: string;
  cpuCores?: number; memoryTotal?: number; diskTotal?: number; agentVersion?: string;
  updateFailedVersion?: string; updateFailure?: string;
}
interface BatchMessage {
  agentId?: string; timestampMs?: number; dataPoints?: PointMessage[];
  systemInfo?: SystemInfoMessage; droppedBatches?: number; streamId?: string; sequence?: number;
  checkEvents?: CheckEventMessage[];
}

/** Decodes a MetricBatchProto; bytes that are not one become INVALID_ARGUMENT. */
export function decodeBatchProto(bytes: Uint8Array, nowMs: number): MetricBatch {
  let msg: BatchMessage;
  try {
    msg = BatchType.decode(bytes) as unknown as BatchMessage;
  } catch (err) {
    throw new TsmonError("INVALID_ARGUMENT", `report is not a valid MetricBatchProto: ${(err as Error).message}`);
  }
  return toBatch(msg, nowMs);
}

/** Encodes a ReportResponse (used once per distinct answer, so cheap). */
export function encodeReportResponse(success: boolean, message: string): Buffer {
  return Buffer.from(ResponseType.encode(ResponseType.create({ success, message })).finish());
}

/** Encodes a ReportStream acknowledgement (OK is encoded once; refusals are rare). */
export function encodeReportAck(code: number, message: string): Buffer {
  return Buffer.from(AckType.encode(AckType.create({ code, message })).finish());
}

export function encodeBatchProto(batch: MetricBatch): Buffer {
  const msg: BatchMessage = {
    agentId: batch.agentId,
    timestampMs: batch.timestampMs,
    dataPoints: batch.points.map((p) => ({ timestampMs: p.timestampMs, agentId: batch.agentId, metricName: p.metric, value: p.value, labels: { ...p.labels } })),
    systemInfo: batch.systemInfo,
    droppedBatches: batch.droppedBatches,
    ...(batch.streamId ? { streamId: batch.streamId, sequence: batch.sequence ?? 0 } : {}),
  };
  return Buffer.from(BatchType.encode(BatchType.fromObject(msg)).finish());
}

/** Decodes a JSON report; a body of the wrong shape becomes INVALID_ARGUMENT naming the field. */
export function decodeBatchJson(body: unknown, nowMs: number): MetricBatch {
  const parsed = reportJsonSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TsmonError("INVALID_ARGUMENT", `${fieldPath(issue.path) || "body"}: ${issue.message}`);
  }
  const b = parsed.data;
  return toBatch({
    agentId: b.agent_id,
    timestampMs: b.timestamp_ms,
    droppedBatches: b.dropped_batches,
    ...(b.system_info ? { systemInfo: {
      hostname: b.system_info.hostname, os: b.system_info.os, kernel: b.system_info.kernel, arch: b.system_info.arch,
      cpuCores: b.system_info.cpu_cores, memoryTotal: b.system_info.memory_total, diskTotal: b.system_info.disk_total,
      agentVersion: b.system_info.agent_version,
      updateFailedVersion: b.system_info.update_failed_version, updateFailure: b.system_info.update_failure,
    } } : {}),
    streamId: b.stream_id,
    sequence: b.sequence,
    dataPoints: b.data_points.map((p) => ({
      timestampMs: p.timestamp_ms, agentId: p.agent_id, metricName: p.metric_name, value: p.value, labels: p.labels,
    })),
  }, nowMs, (batchTs) => b.check_events?.map((e, i) => fromCheckEventJson(e, i, batchTs)));
}

/** `["data_points", 0, "value"]` → `data_points[0].value`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : (i ? "." : "") + String(k))).join("");
}

/** Missing timestamps fall back to the batch's, then to the time the server received it. */
function toBatch(msg: BatchMessage, nowMs: number, checkEvents = (batchTs: number) => msg.checkEvents?.map((e, i) => fromCheckEventMessage(e, i, batchTs))): MetricBatch {
  const agentId = msg.agentId ?? "";
  const batchTs = msg.timestampMs || nowMs;
  const points: MetricPoint[] = (msg.dataPoints ?? []).map((p, i) => {
    if (p.agentId && p.agentId !== agentId) {
      throw new TsmonError("INVALID_ARGUMENT", `data_points[${i}].agent_id: "${p.agentId}" differs from the batch's agent_id`);
    }
    return { timestampMs: p.timestampMs || batchTs, metric: p.metricName ?? "", value: p.value ?? 0, labels: (p.labels ?? {}) as Labels };
  });
  const batch: MetricBatch = { agentId, timestampMs: batchTs, points, droppedBatches: msg.droppedBatches ?? 0 };
  if (msg.streamId) {
    batch.streamId = msg.streamId;
    batch.sequence = msg.sequence ?? 0;
  }
  if (msg.systemInfo) batch.systemInfo = toSystemInfo(msg.systemInfo);
  const events = checkEvents(batchTs);
  if (events?.length) batch.checkEvents = events;
  return batch;
}

function toSystemInfo(s: SystemInfoMessage): SystemInfo {
  return {
    hostname: s.hostname ?? "", os: s.os ?? "", kernel: s.kernel ?? "", arch: s.arch ?? "",
    cpuCores: s.cpuCores ?? 0, memoryTotal: s.memoryTotal ?? 0, diskTotal: s.diskTotal ?? 0, agentVersion: s.agentVersion ?? "",
    ...(s.updateFailedVersion ? { updateFailedVersion: s.updateFailedVersion, updateFailure: s.updateFailure ?? "" } : {}),
  };
}
