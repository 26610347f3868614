import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/*
 * A gRPC client built only from proto/metrics.proto, as a third-party (e.g. oxmon) agent
 * would be: none of tsmon's TypeScript types or encoders are used.
 */
const definition = protoLoader.loadSync(fileURLToPath(new URL("../../proto/metrics.proto", import.meta.url)), {
  keepCase: true, longs: Number, defaults: true,
});
const oxmon = (grpc.loadPackageDefinition(definition) as any).oxmon;

export interface ProtoPoint { timestamp_ms: number; agent_id?: string; metric_name: string; value: number; labels?: Record<string, string> }
export interface ProtoBatch { agent_id: string; timestamp_ms: number; data_points: ProtoPoint[] }

export class ProtoClient {
  private readonly client: grpc.Client & Record<string, any>;
  constructor(address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.client = new oxmon.MetricService(address, credentials, options);
  }

  /** Resolves with the ReportResponse, or rejects with the gRPC error (code + details). */
  report(batch: ProtoBatch, token?: string): Promise<{ success: boolean; message: string }> {
    const md = new grpc.Metadata();
    md.set("agent-id", batch.agent_id);
    if (token) md.set("authorization", `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      this.client.ReportMetrics(batch, md, { deadline: Date.now() + 15_000 }, (err: grpc.ServiceError | null, res: any) =>
        (err ? reject(err) : resolve(res)));
    });
  }

  /** Sends arbitrary bytes as the request of ReportMetrics (a client with an identity serializer). */
  static rawCall(address: string, bytes: Buffer): Promise<grpc.ServiceError | null> {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    return new Promise((resolve) => {
      client.makeUnaryRequest("/oxmon.MetricService/ReportMetrics", (b: Buffer) => b, (b: Buffer) => b, bytes,
        new grpc.Metadata(), { deadline: Date.now() + 15_000 }, (err) => { client.close(); resolve(err); });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** An agent-shaped batch of `n` points at `ts`. */
export function makeBatch(agentId: string, ts: number, n = 5): ProtoBatch {
  const data_points: ProtoPoint[] = [{ timestamp_ms: ts, metric_name: "cpu.usage", value: 10 + (ts % 1000) / 100 }];
  for (let i = 1; i < n; i++) data_points.push({ timestamp_ms: ts, metric_name: "cpu.core_usage", value: i + 0.25, labels: { core: String(i - 1) } });
  return { agent_id: agentId, timestamp_ms: ts, data_points };
}
