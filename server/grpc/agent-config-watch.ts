import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { ERROR_CODES, TsmonError, toErrorData } from "../../common/errors.ts";
import type { AgentCommand } from "../agent-config/commands.ts";
import type { EffectiveConfig } from "../agent-config/effective.ts";
import { splitAddress } from "../agent-config/mesh.ts";
import type { AgentConfigStore } from "../agent-config/store.ts";
import type { WatchHub } from "../agent-config/watch-hub.ts";
import { agentIdProblem } from "../ingest/validate.ts";
import type { Logger } from "../log.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { callToken } from "./metric-service.ts";

const root = protobuf.loadSync(fileURLToPath(new URL("../../proto/metrics.proto", import.meta.url)));
const RequestType = root.lookupType("oxmon.AgentConfigRequest");
const UpdateType = root.lookupType("oxmon.AgentConfigUpdateProto");

interface RequestMessage { agentId?: string; advertiseAddress?: string; knownVersion?: string }

export interface WatchDeps {
  hub: WatchHub;
  store: AgentConfigStore;
  control: ControlStore;
  requireAgentAuth: boolean;
  log: Logger;
  now: () => number;
}

/** AgentConfigUpdateProto carrying `config`. */
export function encodeConfigUpdate(config: EffectiveConfig): Buffer {
  return Buffer.from(UpdateType.encode(UpdateType.fromObject({
    config: {
      version: config.version,
      checksJson: JSON.stringify(config.checks),
      collectionIntervalSecs: config.collection_interval_secs ?? 0,
      collectors: config.collectors,
    },
  })).finish());
}

/** AgentConfigUpdateProto carrying `command`. */
export function encodeCommandUpdate(command: AgentCommand): Buffer {
  return Buffer.from(UpdateType.encode(UpdateType.fromObject({
    command: { id: command.id, kind: command.kind, argsJson: JSON.stringify(command.args) },
  })).finish());
}

/**
 * MetricService.WatchAgentConfig: authenticates the agent as a report would be, records
 * the address other agents reach it at (the mesh), and streams its effective config until
 * the agent goes or the server stops.
 */
export function watchAgentConfigHandler(deps: WatchDeps): grpc.handleServerStreamingCall<Buffer, Buffer> {
  return (call) => {
    let request: { agentId: string; advertiseAddress: string };
    try {
      request = parseRequest(call.request);
      authenticate(request.agentId, callToken(call.metadata), deps);
    } catch (err) {
      const e = toErrorData(err);
      call.emit("error", { code: ERROR_CODES[e.code].grpc, details: e.message });
      return;
    }
    const { agentId, advertiseAddress } = request;
    const address = advertiseAddress || peerHost(call.getPeer());
    void deps.store.noteAddress({ agent_id: agentId, address, advertised: advertiseAddress !== "", seen_at: deps.now() })
      .then(() => deps.hub.changed(), (err: unknown) => deps.log.error({ err, agentId }, "could not record the agent's address"));
    const unwatch = deps.hub.watch(agentId, (config) => call.write(encodeConfigUpdate(config)), () => call.end(), (command) => call.write(encodeCommandUpdate(command)));
    call.on("cancelled", unwatch);
    call.on("close", unwatch);
    deps.log.debug({ agentId, address }, "agent watches its config");
  };
}

function parseRequest(bytes: Buffer): { agentId: string; advertiseAddress: string } {
  let msg: RequestMessage;
  try {
    msg = RequestType.toObject(RequestType.decode(bytes), { defaults: true }) as RequestMessage;
  } catch (err) {
    throw new TsmonError("INVALID_ARGUMENT", `not an AgentConfigRequest: ${(err as Error).message}`);
  }
  const agentId = msg.agentId ?? "";
  const problem = agentIdProblem(agentId);
  if (problem) throw new TsmonError("INVALID_ARGUMENT", `agent_id: ${problem}`);
  const advertiseAddress = msg.advertiseAddress ?? "";
  if (advertiseAddress && !/^[\x21-\x7e]{1,256}$/.test(advertiseAddress)) {
    throw new TsmonError("INVALID_ARGUMENT", "advertise_address: expected host, host:port or [ipv6]:port (printable ASCII, at most 256 characters)");
  }
  return { agentId, advertiseAddress };
}

/** As a report is: with require_agent_auth, the token must be this agent's (a whitelisting a moment ago on another process included). */
function authenticate(agentId: string, token: string | undefined, deps: WatchDeps): void {
  if (!deps.requireAgentAuth) return;
  if (!token) throw new TsmonError("UNAUTHENTICATED", "this server requires agent authentication: send 'authorization: Bearer <token>' (agent config auth_token)");
  if (deps.control.whitelist.tokenMatches(agentId, token)) return;
  deps.control.env.resetReadTxn();
  if (deps.control.whitelist.tokenMatches(agentId, token)) return;
  if (deps.control.whitelist.agentOfToken(token) !== undefined) throw new TsmonError("PERMISSION_DENIED", `the token does not belong to agent '${agentId}'`);
  throw new TsmonError("UNAUTHENTICATED", "unknown agent token: add the agent with POST /v1/agents/whitelist and use the token it returns");
}

/** The host of grpc-js's peer string (`1.2.3.4:5678`, `[::1]:5678`, `ipv4:…`), an IPv4-mapped IPv6 address as IPv4. */
export function peerHost(peer: string): string {
  const host = splitAddress(peer.replace(/^ipv[46]:/, "")).host;
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice("::ffff:".length) : host;
}
