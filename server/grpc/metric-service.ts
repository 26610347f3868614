import * as grpc from "@grpc/grpc-js";
import { ERROR_CODES, toErrorData } from "../../common/errors.ts";
import { encodeReportResponse } from "../ingest/decode.ts";
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
};

const OK_REPLY = encodeReportResponse(true, "ok");

export function metricServiceHandlers(intake: Intake, streams: ReportStreams, log: Logger): grpc.UntypedServiceImplementation {
  const reportMetrics: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const authorization = call.metadata.get("authorization")[0];
    const token = bearerToken(typeof authorization === "string" ? authorization : undefined);
    intake.submit({ type: "report-proto", bytes: ownBytes(call.request), auth: { token } }).then(
      () => callback(null, OK_REPLY),
      (err: unknown) => {
        const e = toErrorData(err);
        if (e.code === "INTERNAL") log.error({ err }, "report failed");
        callback({ code: ERROR_CODES[e.code].grpc, details: e.message });
      },
    );
  };
  return { ReportMetrics: reportMetrics, ReportStream: streams.handler };
}

/** Channel options of the server: cap report size so an oversized message is refused before decoding. */
export const grpcServerOptions: grpc.ServerOptions = {
  "grpc.max_receive_message_length": LIMITS.maxReportBytes,
  "grpc.max_send_message_length": 1024 * 1024,
  "grpc.keepalive_permit_without_calls": 1,
};
