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
/** CheckEventProto as proto-loader takes it; `kind` by enum name or number, a hop's rtt -1 for no answer. */
export interface ProtoCheckEvent {
  check: string; type?: string; target?: string; timestamp_ms?: number; kind: string | number; up?: boolean;
  reason_code?: string; reason_message?: string; detail?: string;
  hops?: { ttl: number; address?: string; rtt_ms?: number[] }[];
}
export interface ProtoBatch { agent_id: string; timestamp_ms: number; data_points: ProtoPoint[]; check_events?: ProtoCheckEvent[] }

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

/** ColumnarReportProto as proto-loader takes it (proto field names). */
export interface ProtoColumnar {
  agent_id: string;
  shape?: number;
  series?: { metric_name: string; labels?: Record<string, string> }[];
  timestamp_ms?: number;
  timestamp_offsets?: number[];
  values: number[];
  system_info?: Record<string, unknown>;
  dropped_batches?: number;
}

export interface ProtoAck { code: number; message: string }

const streamMethod = (definition["oxmon.MetricService"] as any).ReportStream;

/**
 * One ReportStream call, messages encoded by proto-loader from the proto alone (or sent as
 * given when they are bytes). Acknowledgements are matched to reports first in, first out;
 * `ended` resolves with the stream's final status.
 */
export class ProtoStream {
  readonly ended: Promise<grpc.StatusObject>;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<ProtoColumnar | Buffer, ProtoAck>;
  private readonly waiting: { resolve: (ack: ProtoAck) => void; reject: (err: Error) => void }[] = [];

  constructor(address: string, token?: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    if (token) md.set("authorization", `Bearer ${token}`);
    this.call = this.client.makeBidiStreamRequest("/oxmon.MetricService/ReportStream",
      (m: ProtoColumnar | Buffer) => (Buffer.isBuffer(m) ? m : streamMethod.requestSerialize(m)),
      (b: Buffer) => streamMethod.responseDeserialize(b), md);
    this.call.on("data", (ack: ProtoAck) => this.waiting.shift()?.resolve(ack));
    this.call.on("error", () => {}); // reported through `ended`
    this.ended = new Promise((resolve) => this.call.on("status", (s: grpc.StatusObject) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`stream ended (${grpc.status[s.code]}: ${s.details}) before the acknowledgement`));
      resolve(s);
    }));
  }

  /** Resolves with this report's acknowledgement. */
  send(report: ProtoColumnar | Buffer): Promise<ProtoAck> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.call.write(report);
    });
  }

  /** Stops (and starts again) reading acknowledgements, as a stuck sender would. */
  pauseReading(): void {
    this.call.pause();
  }

  resumeReading(): void {
    this.call.resume();
  }

  /** Closes the sending side; the server answers what it took, then ends the stream. */
  end(): void {
    this.call.end();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** `makeBatch` as a columnar report of shape `shape`, declaring its series when `declare`. */
export function makeColumnar(agentId: string, ts: number, n: number, shape: number, declare: boolean): ProtoColumnar {
  const batch = makeBatch(agentId, ts, n);
  return {
    agent_id: agentId, shape, timestamp_ms: ts, values: batch.data_points.map((p) => p.value),
    series: declare ? batch.data_points.map((p) => ({ metric_name: p.metric_name, labels: p.labels ?? {} })) : [],
  };
}
