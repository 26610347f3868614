import * as grpc from "@grpc/grpc-js";
import type { RemoteConfig } from "./cache.ts";
import { decodeAgentConfigUpdate, encodeAgentConfigRequest, type AgentCommand, type AgentConfigRequest, type AgentConfigUpdate, type RemoteConfigMessage } from "./wire.ts";

const WATCH_AGENT_CONFIG = "/oxmon.MetricService/WatchAgentConfig";

/** Why the watch is not (or no longer) receiving. */
export type WatchFailure = "unreachable" | "unimplemented" | "refused";

export interface WatchOptions {
  target: string;
  tls: boolean;
  caPem?: Buffer | undefined;
  authToken?: string | undefined;
  agentId: string;
  advertiseAddress?: string | undefined;
  /** The version the agent runs, sent with each (re)connection. */
  knownVersion(): string;
  onConfig(config: RemoteConfig): void;
  /** A command of the server (e.g. trace now). */
  onCommand?(command: AgentCommand): void;
  /** Every failed or ended watch; `message` says what the server or the channel said. */
  onFailure(kind: WatchFailure, message: string): void;
  /** Reconnection waits: from `initialMs`, doubling to `maxMs` (default 1 s and 30 s); reset by a received config. */
  backoff?: { initialMs: number; maxMs: number };
}

/** After a server said it has no WatchAgentConfig (an oxmon or older tsmon server), the next try is this much later. */
const UNIMPLEMENTED_RETRY_MS = 3_600_000;

/**
 * Keeps one WatchAgentConfig stream open to the server and hands every config it sends to
 * `onConfig`; reconnects with backoff when the stream fails or the server ends it. The
 * client has the report sender's target and channel options, so grpc-js's shared
 * subchannel pool carries both on one connection.
 */
export function watchRemoteConfig(options: WatchOptions, channelOptions: grpc.ChannelOptions): { close(): void } {
  const credentials = options.tls ? grpc.credentials.createSsl(options.caPem ?? null) : grpc.credentials.createInsecure();
  const client = new grpc.Client(options.target, credentials, channelOptions);
  const metadata = new grpc.Metadata();
  if (options.authToken) metadata.set("authorization", `Bearer ${options.authToken}`);
  metadata.set("agent-id", options.agentId);
  const initialMs = options.backoff?.initialMs ?? 1_000;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  let waitMs = initialMs;
  let closed = false;
  let call: grpc.ClientReadableStream<AgentConfigUpdate> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const retry = (afterMs: number) => {
    if (closed) return;
    timer = setTimeout(open, afterMs);
    waitMs = Math.min(maxMs, waitMs * 2);
  };

  function open(): void {
    const request: AgentConfigRequest = { agentId: options.agentId, advertiseAddress: options.advertiseAddress ?? "", knownVersion: options.knownVersion() };
    const stream = client.makeServerStreamRequest<AgentConfigRequest, AgentConfigUpdate>(
      WATCH_AGENT_CONFIG, encodeAgentConfigRequest, decodeAgentConfigUpdate, request, metadata, {});
    call = stream;
    stream.on("data", (update: AgentConfigUpdate) => {
      if ("command" in update) return options.onCommand?.(update.command);
      if (!("config" in update)) return;
      const config = toRemoteConfig(update.config);
      if (!config) return options.onFailure("refused", "the server sent checks that are not a JSON array; keeping the current config");
      waitMs = initialMs;
      options.onConfig(config);
    });
    stream.on("error", (err: grpc.ServiceError) => {
      if (closed || err.code === grpc.status.CANCELLED) return;
      const message = err.details || err.message;
      if (err.code === grpc.status.UNIMPLEMENTED) {
        options.onFailure("unimplemented", message);
        retry(UNIMPLEMENTED_RETRY_MS);
      } else {
        options.onFailure(err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED || err.code === grpc.status.INVALID_ARGUMENT ? "refused" : "unreachable", message);
        retry(waitMs);
      }
    });
    // The server ended the stream (it is shutting down): connect again, to it or a peer.
    stream.on("status", (status: grpc.StatusObject) => {
      if (!closed && status.code === grpc.status.OK) {
        options.onFailure("unreachable", "the server ended the config stream");
        retry(waitMs);
      }
    });
  }

  open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      call?.cancel();
      client.close();
    },
  };
}

function toRemoteConfig(message: RemoteConfigMessage): RemoteConfig | undefined {
  let checks: unknown;
  try {
    checks = message.checksJson ? JSON.parse(message.checksJson) : [];
  } catch {
    return undefined;
  }
  if (!Array.isArray(checks)) return undefined;
  return {
    version: message.version,
    checks,
    ...(message.collectionIntervalSecs > 0 ? { collectionIntervalSecs: message.collectionIntervalSecs } : {}),
    collectors: message.collectors,
  };
}
