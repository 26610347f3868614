import * as grpc from "@grpc/grpc-js";
import { encodeBatchProto } from "../../server/ingest/decode.ts";
import type { ProtoBatch } from "../../test/helpers/proto-client.ts";

const POINTS = 10_000;
const LABEL = "x".repeat(250);

/** A valid report of ≈ 2.8 MB: 10,000 points (the most one may carry), each with a 250-character label. */
export function bigReport(agentId: string, ts: number): ProtoBatch {
  return { agent_id: agentId, timestamp_ms: ts, data_points: Array.from({ length: POINTS }, (_, i) => ({ timestamp_ms: ts, metric_name: `m.${i}`, value: i, labels: { k: LABEL } })) };
}

/** `reports` big reports at once from 10 agents over `clients`, each agent's encoded once and
 *  sent as bytes (the sender's CPU goes to sending, so the burst arrives at once even on a busy
 *  machine); each settled as its gRPC status code. */
export function bigBurstEncoded(clients: grpc.Client[], reports: number, ts: number): Promise<grpc.status[]> {
  const encoded = Array.from({ length: 10 }, (_, a) => encodeBatchProto({ agentId: `big-${a}`, timestampMs: ts,
    points: Array.from({ length: POINTS }, (_, i) => ({ metric: `m.${i}`, labels: { k: LABEL }, value: i, timestampMs: ts })) }));
  const identity = (b: Buffer) => b;
  return Promise.all(Array.from({ length: reports }, (_, i) => new Promise<grpc.status>((resolve) => {
    const metadata = new grpc.Metadata();
    metadata.set("agent-id", `big-${i % 10}`);
    clients[i % clients.length]!.makeUnaryRequest("/oxmon.MetricService/ReportMetrics", identity, identity, encoded[i % 10]!, metadata,
      { deadline: Date.now() + 60_000 }, (err) => resolve(err ? err.code : grpc.status.OK));
  })));
}
