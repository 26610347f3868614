import * as grpc from "@grpc/grpc-js";
import type { MetricBatch } from "../common/metrics.ts";
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
}

/** The server's answer: a gRPC status code (OK included) and its message. */
export interface SendOutcome {
  code: grpc.status;
  message: string;
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

/** The one RPC of proto/metrics.proto the agent calls. */
const REPORT_METRICS = "/oxmon.MetricService/ReportMetrics";

interface ReportRequest {
  batch: MetricBatch;
  droppedBatches: number;
}

const serialize = (request: ReportRequest) => encodeMetricBatch(request.batch, request.droppedBatches);

/**
 * gRPC client of `oxmon.MetricService/ReportMetrics`. The messages go through the
 * hand-written codec of wire.ts rather than a schema loaded at start (see there why).
 */
export function createGrpcSender(options: SenderOptions): Sender {
  const credentials = options.tls ? grpc.credentials.createSsl(options.caPem ?? null) : grpc.credentials.createInsecure();
  const maxBackoff = Math.max(100, options.maxReconnectBackoffMs ?? 30_000);
  const client = new grpc.Client(options.target, credentials, {
    "grpc.initial_reconnect_backoff_ms": Math.min(1000, maxBackoff),
    "grpc.max_reconnect_backoff_ms": maxBackoff,
  });
  const deadlineMs = options.deadlineMs ?? 10_000;

  return {
    send(batch, droppedBatches, callOptions = {}) {
      // grpc-js takes wait-for-ready as a metadata option, not a call option.
      const metadata = new grpc.Metadata({ waitForReady: callOptions.waitForReady ?? false });
      if (options.authToken) metadata.set("authorization", `Bearer ${options.authToken}`);
      metadata.set("agent-id", options.agentId);
      return new Promise((resolve) => {
        const call = { deadline: callOptions.deadline ?? Date.now() + deadlineMs };
        client.makeUnaryRequest<ReportRequest, ReportResponse>(REPORT_METRICS, serialize, decodeReportResponse,
          { batch, droppedBatches }, metadata, call, (err, response) => {
            if (err) resolve({ code: err.code, message: err.details || err.message });
            else if (response && !response.success) {
              // Not how tsmon refuses (it uses a status), but a server may say so in the body.
              resolve({ code: grpc.status.UNKNOWN, message: `server answered success=false: ${response.message}` });
            } else resolve({ code: grpc.status.OK, message: response?.message ?? "" });
          });
      });
    },
    close() {
      client.close();
    },
  };
}
