import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { MetricBatch } from "../common/metrics.ts";
import { ReportStreamClient } from "./report-stream.ts";
import { decodeReportResponse, encodeMetricBatch, type ReportResponse } from "./wire.ts";

export interface SenderOptions {
  /** `host:port`. */
  target: string;
  agentId: string;
  authToken?: string | undefined;
  tls: boolean;
  /** PEM CA bundle; without it, TLS verifies against the system roots. */
  caPem?: Buffer | undefined;
  /** Per-call deadline (default 10 s). */
  deadlineMs?: number;
  /**
   * Longest wait of the channel between reconnection attempts (default 30 s). Calls made
   * while the channel waits fail at once, so this bounds how late the agent notices that
   * the server is back; the agent sets it to its collection interval.
   */
  maxReconnectBackoffMs?: number;
  /** Says when the server has no ReportStream and reports go one call each. */
  log?: Pick<Logger, "info">;
}

/** The server's answer: a gRPC status code (OK included) and its message. */
export interface SendOutcome {
  code: grpc.status;
  message: string;
  /** How long the server asked to wait before the next try (HTTP 429 Retry-After). */
  retryAfterMs?: number;
}

export interface SendOptions {
  /** Absolute deadline (epoch ms) instead of now + the per-call deadline. */
  deadline?: number;
  /** Wait for a connection until the deadline instead of failing at once while disconnected. */
  waitForReady?: boolean;
}

export interface Sender {
  /** Sends one batch, reporting `droppedBatches` with it; never rejects. */
  send(batch: MetricBatch, droppedBatches: number, options?: SendOptions): Promise<SendOutcome>;
  close(): void;
}

/** The agent's channel options; the config watch uses the same, so grpc-js gives both one connection. */
export function grpcChannelOptions(maxReconnectBackoffMs: number): Record<string, number> {
  const maxBackoff = Math.max(100, maxReconnectBackoffMs);
  return { "grpc.initial_reconnect_backoff_ms": Math.min(1000, maxBackoff), "grpc.max_reconnect_backoff_ms": maxBackoff };
}

/** The unary RPC of proto/metrics.proto, which every server has. */
const REPORT_METRICS = "/oxmon.MetricService/ReportMetrics";

interface ReportRequest {
  batch: MetricBatch;
  droppedBatches: number;
}

const serialize = (request: ReportRequest) => encodeMetricBatch(request.batch, request.droppedBatches);

/** After a server said it has no ReportStream, how long reports go one call each before the stream is tried again. */
const STREAM_RETRY_MS = 3_600_000;

/**
 * gRPC client of `oxmon.MetricService`: reports go over one long-lived ReportStream (one
 * HTTP/2 stream and one set of headers for them all, series declared once), or, to a server
 * that answers UNIMPLEMENTED (an oxmon server, an older tsmon), one ReportMetrics call each.
 * The messages go through the hand-written codec of wire.ts rather than a schema loaded at
 * start (see there why).
 */
export function createGrpcSender(options: SenderOptions): Sender {
  const credentials = options.tls ? grpc.credentials.createSsl(options.caPem ?? null) : grpc.credentials.createInsecure();
  const client = new grpc.Client(options.target, credentials, grpcChannelOptions(options.maxReconnectBackoffMs ?? 30_000));
  const deadlineMs = options.deadlineMs ?? 10_000;
  const headers = new grpc.Metadata();
  if (options.authToken) headers.set("authorization", `Bearer ${options.authToken}`);
  headers.set("agent-id", options.agentId);
  const stream = new ReportStreamClient(client, { metadata: headers });
  let unaryUntil = 0;

  const sendUnary = (batch: MetricBatch, droppedBatches: number, deadline: number, waitForReady: boolean): Promise<SendOutcome> => {
    // grpc-js takes wait-for-ready as a metadata option, not a call option.
    const metadata = headers.clone();
    metadata.setOptions({ waitForReady });
    return new Promise((resolve) => {
      client.makeUnaryRequest<ReportRequest, ReportResponse>(REPORT_METRICS, serialize, decodeReportResponse,
        { batch, droppedBatches }, metadata, { deadline }, (err, response) => {
          if (err) resolve({ code: err.code, message: err.details || err.message });
          else if (response && !response.success) {
            // Not how tsmon refuses (it uses a status), but a server may say so in the body.
            resolve({ code: grpc.status.UNKNOWN, message: `server answered success=false: ${response.message}` });
          } else resolve({ code: grpc.status.OK, message: response?.message ?? "" });
        });
    });
  };

  return {
    async send(batch, droppedBatches, callOptions = {}) {
      const deadline = callOptions.deadline ?? Date.now() + deadlineMs;
      const waitForReady = callOptions.waitForReady ?? false;
      if (Date.now() >= unaryUntil) {
        const outcome = await stream.send(batch, droppedBatches, { deadline, waitForReady });
        if (outcome.code !== grpc.status.UNIMPLEMENTED || stream.proven) return outcome;
        // Every report in flight on the stream hears it: the first to come back says so once.
        if (Date.now() >= unaryUntil) {
          options.log?.info({ reason: outcome.message }, "the server has no ReportStream: sending each report as one ReportMetrics call");
        }
        unaryUntil = Date.now() + STREAM_RETRY_MS;
      }
      return sendUnary(batch, droppedBatches, deadline, waitForReady);
    },
    close() {
      stream.close();
      client.close();
    },
  };
}
