import { status } from "@grpc/grpc-js";
import http from "node:http";
import https from "node:https";
import type { CheckEvent } from "../common/check-events.ts";
import type { MetricBatch } from "../common/metrics.ts";
import type { Sender, SendOptions, SendOutcome } from "./sender.ts";

export interface HttpSenderOptions {
  /** `http(s)://host:port`, the server's REST port. */
  baseUrl: string;
  authToken?: string | undefined;
  /** PEM CA bundle; without it, TLS verifies against the system roots. */
  caPem?: Buffer | undefined;
  /** Per-request deadline (default 10 s). */
  deadlineMs?: number;
}

/** An outcome that says the port did not answer in HTTP/1.1 at all (a gRPC port speaks only HTTP/2). */
export interface HttpSendOutcome extends SendOutcome {
  notHttp1?: boolean;
}

/** A Sender whose outcomes may say the port is not an HTTP/1.1 one. */
export interface HttpSender extends Sender {
  send(batch: MetricBatch, droppedBatches: number, options?: SendOptions): Promise<HttpSendOutcome>;
}

/** The report route, the same shape and validation as ReportMetrics (server/http/routes/report.ts). */
const REPORT_PATH = "/v1/report";

/** Each answer of the REST port as the gRPC status the reporter's verdicts are written for. */
const STATUS_OF: Record<number, status> = {
  200: status.OK,
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.UNIMPLEMENTED,
  413: status.INVALID_ARGUMENT,
  415: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  503: status.UNAVAILABLE,
};

/**
 * Reports as JSON to `POST /v1/report` on the REST port, for hosts where gRPC cannot pass
 * (a proxy that speaks only HTTP/1.1). The exactly-once key (stream_id, sequence) and
 * dropped_batches go in the body; 429 and 503 honour Retry-After.
 */
export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const url = new URL(REPORT_PATH, options.baseUrl);
  const secure = url.protocol === "https:";
  const agent = secure ? new https.Agent({ keepAlive: true, ca: options.caPem }) : new http.Agent({ keepAlive: true });
  const deadlineMs = options.deadlineMs ?? 10_000;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.authToken) headers.authorization = `Bearer ${options.authToken}`;

  return {
    send(batch, droppedBatches, callOptions = {}) {
      const body = Buffer.from(JSON.stringify(toJson(batch, droppedBatches)));
      const timeoutMs = Math.max(1, (callOptions.deadline ?? Date.now() + deadlineMs) - Date.now());
      return new Promise<HttpSendOutcome>((resolve) => {
        const request = (secure ? https : http).request(url, {
          method: "POST", agent, headers: { ...headers, "content-length": String(body.length) }, timeout: timeoutMs,
        }, (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (c: Buffer) => chunks.push(c));
          response.on("error", (err) => resolve({ code: status.UNAVAILABLE, message: err.message }));
          response.on("end", () => {
            const code = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8");
            const outcome: HttpSendOutcome = { code: STATUS_OF[code] ?? (code >= 500 ? status.UNAVAILABLE : status.UNKNOWN), message: messageOf(code, text) };
            const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
            if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
            resolve(outcome);
          });
        });
        request.on("timeout", () => {
          request.destroy();
          resolve({ code: status.DEADLINE_EXCEEDED, message: `no answer from ${url.origin} within ${timeoutMs} ms` });
        });
        request.on("error", (err: NodeJS.ErrnoException) => {
          resolve({ code: status.UNAVAILABLE, message: `${url.origin}: ${err.message}`, notHttp1: err.code?.startsWith("HPE_") ?? false });
        });
        request.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** The JSON report (server/ingest/report-json.ts): the proto's field names in snake_case. */
function toJson(batch: MetricBatch, droppedBatches: number): Record<string, unknown> {
  const json: Record<string, unknown> = {
    agent_id: batch.agentId,
    timestamp_ms: batch.timestampMs,
    data_points: batch.points.map((p) => ({ metric_name: p.metric, value: p.value, timestamp_ms: p.timestampMs, labels: p.labels })),
    dropped_batches: droppedBatches,
  };
  if (batch.streamId) {
    json.stream_id = batch.streamId;
    json.sequence = batch.sequence ?? 0;
  }
  if (batch.checkEvents?.length) json.check_events = batch.checkEvents.map(checkEventJson);
  const info = batch.systemInfo;
  if (info) {
    json.system_info = {
      hostname: info.hostname, os: info.os, kernel: info.kernel, arch: info.arch, cpu_cores: info.cpuCores,
      memory_total: info.memoryTotal, disk_total: info.diskTotal, agent_version: info.agentVersion,
      ...(info.updateFailedVersion ? { update_failed_version: info.updateFailedVersion, update_failure: info.updateFailure ?? "" } : {}),
    };
  }
  return json;
}

/** A CheckEventProto in the JSON report's field names; a probe with no answer is null. */
function checkEventJson(e: CheckEvent): Record<string, unknown> {
  return {
    check: e.check, type: e.type, target: e.target, timestamp_ms: e.timestampMs, kind: e.kind, up: e.up,
    ...(e.reasonCode !== undefined && { reason_code: e.reasonCode }), ...(e.reasonMessage !== undefined && { reason_message: e.reasonMessage }),
    ...(e.detail !== undefined && { detail: e.detail }),
    ...(e.hops && { hops: e.hops.map((h) => ({ ttl: h.ttl, ...(h.address !== undefined && { address: h.address }), rtt_ms: h.rttsMs })) }),
  };
}

function messageOf(code: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: string; message?: string };
    if (code === 200) return body.message ?? "";
    return `HTTP ${code}: ${body.error ?? body.message ?? text}`;
  } catch {
    return `HTTP ${code}: ${text.slice(0, 200)}`;
  }
}

/** Retry-After in seconds or as an HTTP date, in ms from now (bounded to an hour). */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - nowMs;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(3_600_000, Math.max(0, Math.round(ms)));
}
