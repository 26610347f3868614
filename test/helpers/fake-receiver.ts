import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/*
 * A stand-in for the tsmon server in agent tests: a real gRPC server on loopback that
 * implements oxmon.MetricService straight from proto/metrics.proto, records every call,
 * answers OK or a status it is told to, and can be shut down and brought back on the
 * same port to simulate an outage.
 */

const definition = protoLoader.loadSync(fileURLToPath(new URL("../../proto/metrics.proto", import.meta.url)), {
  keepCase: true, longs: Number, defaults: true,
});
const oxmon = (grpc.loadPackageDefinition(definition) as any).oxmon;

/** One ReportMetrics call as the receiver saw it (proto field names). */
export interface ReceivedCall {
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

export class FakeReceiver {
  /** Every call, in arrival order, refused ones included. */
  readonly calls: ReceivedCall[] = [];
  private server: grpc.Server | undefined;
  private readonly answers: { code: grpc.status; message: string }[] = [];

  private constructor(public port: number) {}

  /** Starts on 127.0.0.1 and a port the OS picks. */
  static async start(): Promise<FakeReceiver> {
    const receiver = new FakeReceiver(0);
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
    server.addService(oxmon.MetricService.service, {
      ReportMetrics: (call: grpc.ServerUnaryCall<ReceivedCall["batch"], unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const answer = this.answers.shift() ?? { code: grpc.status.OK, message: "ok" };
        const metadata: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
        this.calls.push({ batch: call.request, metadata, answered: answer.code });
        if (answer.code === grpc.status.OK) callback(null, { success: true, message: "ok" });
        else callback({ code: answer.code, details: answer.message } as grpc.ServiceError, null);
      },
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.server = server;
  }
}
