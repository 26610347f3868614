import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { AgentConfig } from "./config.ts";
import { createHttpSender } from "./http-sender.ts";
import { createGrpcSender, type Sender } from "./sender.ts";

export interface TransportOptions {
  log: Pick<Logger, "info" | "warn">;
  deadlineMs?: number | undefined;
  maxReconnectBackoffMs: number;
}

/**
 * The sender the configuration asks for: gRPC for `grpc(s)://` and bare `host:port`; HTTP
 * JSON to the REST port for `http(s)://`. The reference agent's configs write the gRPC port
 * as `http://host:9090`: such a port answers HTTP/1.1 with HTTP/2 bytes, and the agent then
 * switches to gRPC for good (and says so once), so those configs keep working.
 */
export function createSender(config: AgentConfig, options: TransportOptions): Sender {
  const caPem = config.caFile ? readFileSync(config.caFile) : undefined;
  const grpc = () => createGrpcSender({
    target: config.grpcTarget, agentId: config.agentId, authToken: config.authToken, tls: config.tls, caPem,
    deadlineMs: options.deadlineMs, maxReconnectBackoffMs: options.maxReconnectBackoffMs, log: options.log,
  });
  if (config.transport === "grpc") return grpc();
  const http = createHttpSender({ baseUrl: config.httpBase, authToken: config.authToken, caPem, deadlineMs: options.deadlineMs });
  let active: Sender = http;
  return {
    async send(batch, droppedBatches, callOptions) {
      if (active !== http) return active.send(batch, droppedBatches, callOptions);
      const outcome = await http.send(batch, droppedBatches, callOptions);
      if (!outcome.notHttp1) return outcome;
      options.log.warn({ serverEndpoint: config.serverEndpoint },
        "the server endpoint answers only HTTP/2, as a gRPC port does: reporting over gRPC from now on (write grpc://host:port to say so)");
      http.close();
      active = grpc();
      return active.send(batch, droppedBatches, callOptions);
    },
    close() {
      active.close();
    },
  };
}
