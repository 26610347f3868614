import * as grpc from "@grpc/grpc-js";

/** Several independent connections to one server (grpc-js would otherwise share one). */
export function openChannels(address: string, count: number): grpc.Client[] {
  return Array.from({ length: count }, () =>
    new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
}

/** One ReportMetrics call with an already-encoded MetricBatchProto; resolves with the error, if any. */
export function sendReport(client: grpc.Client, bytes: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) =>
    client.makeUnaryRequest("/oxmon.MetricService/ReportMetrics", (b: Buffer) => b, (b: Buffer) => b, bytes,
      new grpc.Metadata(), (err) => resolve(err)));
}

/** Quantile of an already sorted array. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}
