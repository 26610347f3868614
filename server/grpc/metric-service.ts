import * as grpc from "@grpc/grpc-js";
import { ERROR_CODES, toErrorData } from "../../common/errors.ts";
import { encodeReportResponse } from "../ingest/decode.ts";
import { DUPLICATE_MESSAGE } from "../ingest/report-key.ts";
import { LIMITS } from "../ingest/limits.ts";
import { bearerToken } from "../bearer.ts";
import type { Intake } from "../actors/ingest/intake.ts";
import type { Logger } from "../log.ts";
import { ownBytes } from "./own-bytes.ts";
import type { ReportStreams } from "./report-stream.ts";

/*
 * oxmon.MetricService, served with identity (de)serializers: the main thread never decodes
 * a report, it hands the raw bytes to the ingest pool and answers with a pre-encoded reply.
 */
const identity = (b: Buffer): Buffer => b;

export const metricServiceDefinition: grpc.ServiceDefinition = {
  ReportMetrics: {
    path: "/oxmon.MetricService/ReportMetrics",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  ReportStream: {
    path: "/oxmon.MetricService/ReportStream",
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  WatchAgentConfig: {
    path: "/oxmon.MetricService/WatchAgentConfig",
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const OK_REPLY = encodeReportResponse(true, "ok");
const DUPLICATE_REPLY = encodeReportResponse(true, DUPLICATE_MESSAGE);

export function metricServiceHandlers(intake: Intake, streams: ReportStreams, watchAgentConfig: grpc.handleServerStreamingCall<Buffer, Buffer>, log: Logger): grpc.UntypedServiceImplementation {
  const reportMetrics: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const token = callToken(call.metadata);
    const refuse = (err: unknown) => {
      const e = toErrorData(err);
      if (e.code === "INTERNAL") log.error({ err }, "report failed");
      callback({ code: ERROR_CODES[e.code].grpc, details: e.message });
    };
    let sender: string;
    try {
      sender = intake.identify(token, callSender(call.metadata, call.getPeer()));
    } catch (err) {
      return refuse(err);
    }
    intake.submit({ type: "report-proto", bytes: ownBytes(call.request), auth: { token } }, sender, call.request.length)
      .then((stored) => callback(null, stored.duplicate ? DUPLICATE_REPLY : OK_REPLY), refuse);
  };
  return { ReportMetrics: reportMetrics, ReportStream: streams.handler, WatchAgentConfig: watchAgentConfig };
}

export function callToken(metadata: grpc.Metadata): string | undefined {
  const authorization = metadata.get("authorization")[0];
  return bearerToken(typeof authorization === "string" ? authorization : undefined);
}

/** Who a call without a known token counts as: the agent it names in its header (oxmon agents send one), else its connection. */
export function callSender(metadata: grpc.Metadata, peer: string): string {
  const agentId = metadata.get("agent-id")[0];
  return typeof agentId === "string" && agentId ? `agent:${agentId.slice(0, 128)}` : `peer:${peer}`;
}

/** Channel options of the server: cap report size so an oversized message is refused before decoding. */
export const grpcServerOptions: grpc.ServerOptions = {
  "grpc.max_receive_message_length": LIMITS.maxReportBytes,
  "grpc.max_send_message_length": 1024 * 1024,
  "grpc.keepalive_permit_without_calls": 1,
};
