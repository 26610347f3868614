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
  const encoded = encodedAgents(ts);
  return Promise.all(Array.from({ length: reports }, (_, i) => sendEncoded(clients[i % clients.length]!, i % 10, encoded[i % 10]!)));
}

/** One big report of each of the same 10 agents, one after another: the series a burst
 *  stores, without the burst. */
export async function bigReportsInTurn(client: grpc.Client, ts: number): Promise<grpc.status[]> {
  const codes: grpc.status[] = [];
  for (const [agent, bytes] of encodedAgents(ts).entries()) codes.push(await sendEncoded(client, agent, bytes));
  return codes;
}

function encodedAgents(ts: number): Buffer[] {
  return Array.from({ length: 10 }, (_, a) => encodeBatchProto({ agentId: `big-${a}`, timestampMs: ts,
    points: Array.from({ length: POINTS }, (_, i) => ({ metric: `m.${i}`, labels: { k: LABEL }, value: i, timestampMs: ts })) }));
}

const identity = (b: Buffer) => b;

function sendEncoded(client: grpc.Client, agent: number, bytes: Buffer): Promise<grpc.status> {
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    metadata.set("agent-id", `big-${agent}`);
    client.makeUnaryRequest("/oxmon.MetricService/ReportMetrics", identity, identity, bytes, metadata,
      { deadline: Date.now() + 60_000 }, (err) => resolve(err ? err.code : grpc.status.OK));
  });
}
