import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/*
 * A stand-in for the tsmon server in agent tests: a real gRPC server on loopback that
 * implements oxmon.MetricService straight from proto/metrics.proto, records every report,
 * answers OK or a status it is told to, and can be shut down and brought back on the
 * same port to simulate an outage. With `{ stream: false }` it has only ReportMetrics,
 * as an oxmon server: ReportStream answers UNIMPLEMENTED.
 */

const definition = protoLoader.loadSync(fileURLToPath(new URL("../../proto/metrics.proto", import.meta.url)), {
  keepCase: true, longs: Number, defaults: true,
});
const oxmon = (grpc.loadPackageDefinition(definition) as any).oxmon;

/** One report as the receiver saw it (proto field names; a ReportStream report is turned
 *  into the MetricBatchProto it stands for, with its stream's declared series). */
export interface ReceivedCall {
  transport: "unary" | "stream";
  /** Which ReportStream call brought it (numbered from 1 in the order they opened); 0 for unary. */
  stream: number;
  batch: {
    agent_id: string;
    timestamp_ms: number;
    data_points: { timestamp_ms: number; agent_id: string; metric_name: string; value: number; labels: Record<string, string> }[];
    system_info: Record<string, unknown> | null;
    dropped_batches: number;
  };
  metadata: Record<string, string>;
  /** The status code it was answered with. */
  answered: grpc.status;
}

interface ColumnarMessage {
  agent_id: string; shape: number; timestamp_ms: number; timestamp_offsets: number[]; values: number[];
  series: { metric_name: string; labels: Record<string, string> }[];
  system_info: Record<string, unknown> | null; dropped_batches: number;
}

function plain(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata.getMap())) out[k] = String(v);
  return out;
}

export class FakeReceiver {
  /** Every call, in arrival order, refused ones included. */
  readonly calls: ReceivedCall[] = [];
  private server: grpc.Server | undefined;
  private readonly answers: { code: grpc.status; message: string }[] = [];
  private streams = 0;

  private constructor(public port: number, private readonly stream: boolean) {}

  /** Starts on 127.0.0.1 and a port the OS picks. */
  static async start(options: { stream?: boolean } = {}): Promise<FakeReceiver> {
    const receiver = new FakeReceiver(0, options.stream ?? true);
    await receiver.listen();
    return receiver;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Calls answered OK, in arrival order. */
  get accepted(): ReceivedCall[] {
    return this.calls.filter((c) => c.answered === grpc.status.OK);
  }

  /** The next `times` calls are answered with `code` (queued after earlier instructions). */
  answerNext(code: grpc.status, times = 1, message = `told to answer ${grpc.status[code]}`): void {
    for (let i = 0; i < times; i++) this.answers.push({ code, message });
  }

  /** The next `times` stream reports are recorded but never answered (answered: -1). */
  silenceNext(times = 1): void {
    for (let i = 0; i < times; i++) this.answers.push({ code: -1 as grpc.status, message: "" });
  }

  /** Stops at once, dropping connections: the agent sees the server vanish. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.forceShutdown();
  }

  /** Comes back on the same port. */
  async restart(): Promise<void> {
    if (this.server) return;
    await this.listen();
  }

  /** Resolves once `predicate` holds (polled), rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs: number, what = "condition"): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async listen(): Promise<void> {
    const server = new grpc.Server();
    const reportMetrics = (call: grpc.ServerUnaryCall<ReceivedCall["batch"], unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const answer = this.answers.shift() ?? { code: grpc.status.OK, message: "ok" };
      this.calls.push({ transport: "unary", stream: 0, batch: call.request, metadata: plain(call.metadata), answered: answer.code });
      if (answer.code === grpc.status.OK) callback(null, { success: true, message: "ok" });
      else callback({ code: answer.code, details: answer.message } as grpc.ServiceError, null);
    };
    const reportStream = (call: grpc.ServerDuplexStream<ColumnarMessage, unknown>) => {
      const shapes = new Map<number, ColumnarMessage["series"]>();
      const stream = ++this.streams;
      call.on("data", (report: ColumnarMessage) => {
        if (report.series.length) shapes.set(report.shape, report.series);
        const series = shapes.get(report.shape) ?? [];
        const answer = this.answers.shift() ?? { code: grpc.status.OK, message: "" };
        const batch: ReceivedCall["batch"] = {
          agent_id: report.agent_id, timestamp_ms: report.timestamp_ms, system_info: report.system_info, dropped_batches: report.dropped_batches,
          data_points: report.values.map((value, i) => ({
            timestamp_ms: report.timestamp_ms + (report.timestamp_offsets[i] ?? 0), agent_id: report.agent_id,
            metric_name: series[i]?.metric_name ?? "?", value, labels: series[i]?.labels ?? {},
          })),
        };
        this.calls.push({ transport: "stream", stream, batch, metadata: plain(call.metadata), answered: answer.code });
        if (answer.code !== (-1 as grpc.status)) call.write(answer);
      });
      call.on("end", () => call.end());
    };
    // Without ReportStream, grpc-js answers it UNIMPLEMENTED, as a server built from an older proto.
    server.addService(oxmon.MetricService.service, this.stream ? { ReportMetrics: reportMetrics, ReportStream: reportStream } : { ReportMetrics: reportMetrics });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.server = server;
  }
}
