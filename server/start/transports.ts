import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { ServerConfig } from "../config/load.ts";
import { PortError, portProblem, type PortField } from "../config/ports.ts";
import { grpcServerOptions, metricServiceDefinition, metricServiceHandlers } from "../grpc/metric-service.ts";
import { ReportStreams } from "../grpc/report-stream.ts";
import { watchAgentConfigHandler } from "../grpc/agent-config-watch.ts";
import { createHttpApp } from "../http/app.ts";
import type { HttpDeps } from "../http/context.ts";
import type { LiveHub } from "../live/hub.ts";
import { attachLiveFeed } from "../live/ws-server.ts";
import type { Logger } from "../log.ts";

export interface Transports {
  grpcPort: number;
  httpPort: number;
  reportStreams: ReportStreams;
  /** Stops accepting; in-flight calls and open report streams finish against the running actors. */
  close(): Promise<void>;
}

/** The gRPC service, the REST API and the live WebSocket feed, on the configured ports. */
export async function startTransports(config: ServerConfig, api: Omit<HttpDeps, "config" | "log">, hub: LiveHub, log: Logger): Promise<Transports> {
  const tls = config.tls.enabled
    ? { cert: readFileSync(config.tls.cert_file!), key: readFileSync(config.tls.key_file!) }
    : undefined;

  const grpcLog = log.child({ component: "grpc" });
  routeGrpcLogs(grpcLog);
  const grpcServer = new grpc.Server(grpcServerOptions);
  const reportStreams = new ReportStreams(api.intake, api.metrics, grpcLog);
  const watchAgentConfig = watchAgentConfigHandler({
    hub: api.agentConfig.hub, store: api.agentConfig.store, control: api.control, requireAgentAuth: config.require_agent_auth, log: grpcLog, now: api.now,
  });
  grpcServer.addService(metricServiceDefinition, metricServiceHandlers(api.intake, reportStreams, watchAgentConfig, grpcLog));
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
    : grpc.ServerCredentials.createInsecure();
  const grpcPort = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync(`${config.bind_address}:${config.grpc_port}`, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  }).catch((err: Error) => { throw bindError("grpc_port", config.grpc_port, config.bind_address, err); });

  const app = createHttpApp({ ...api, config, log: log.child({ component: "http" }) });
  const httpServer = tls ? https.createServer(tls, app.callback()) : http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.http_port, config.bind_address, () => resolve());
  }).catch((err: Error) => {
    grpcServer.forceShutdown();
    throw bindError("http_port", config.http_port, config.bind_address, err);
  });
  const httpPort = (httpServer.address() as AddressInfo).port;
  const liveFeed = attachLiveFeed(httpServer as http.Server, hub, api.auth.authenticator, log.child({ component: "live" }));

  return {
    grpcPort, httpPort, reportStreams,
    async close() {
      if (config.http.shutdown_grace_ms) await new Promise((r) => setTimeout(r, config.http.shutdown_grace_ms));
      liveFeed.close();
      // Stop accepting first; in-flight gRPC calls complete against a still-running pool, and
      // open report streams answer what they took in, then end (their senders reconnect).
      const forced = setTimeout(() => grpcServer.forceShutdown(), 10_000).unref();
      await Promise.all([
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        reportStreams.close(),
        api.agentConfig.hub.close(),
        new Promise<void>((resolve) => { httpServer.close(() => resolve()); httpServer.closeIdleConnections(); }),
      ]);
      clearTimeout(forced);
    },
  };
}

/** A port that cannot be bound is a configuration problem: say which field and what to do. */
function bindError(field: PortField, port: number, address: string, err: Error): PortError {
  return new PortError(portProblem(field, port, address, err));
}


/**
 * grpc-js writes its own errors to stderr (`E No address added…` beside our one-line port
 * error); into the log they go, at debug, except errors which stay warnings.
 */
function routeGrpcLogs(log: Logger): void {
  const text = (message: unknown, rest: unknown[]) => [message, ...rest].map(String).join(" ");
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      const line = text(message, rest);
      if (!line.startsWith("No address added")) log.warn({ grpc: line }, "grpc-js");
    },
    info: (message?: unknown, ...rest: unknown[]) => log.debug({ grpc: text(message, rest) }, "grpc-js"),
    debug: (message?: unknown, ...rest: unknown[]) => log.trace({ grpc: text(message, rest) }, "grpc-js"),
  } as Partial<Console>);
}
