import { LENGTH_DELIMITED, FIXED64, ProtoReader, VARINT } from "../../common/proto-reader.ts";
import { encode } from "../wire.ts";

/*
 * WatchAgentConfig's messages (proto/metrics.proto), by hand like the report messages in
 * ../wire.ts and for the same reason; test/remote-config-wire.test.ts checks the field
 * numbers against protobufjs.
 */

export interface AgentConfigRequest {
  agentId: string;
  advertiseAddress: string;
  knownVersion: string;
}

/** AgentConfigProto as the agent reads it; `checksJson` is parsed and validated later (remote-config/checks.ts). */
export interface RemoteConfigMessage {
  version: string;
  checksJson: string;
  /** 0: the agent's own interval. */
  collectionIntervalSecs: number;
  collectors: Record<string, boolean>;
}

export interface AgentCommand {
  id: string;
  kind: string;
  argsJson: string;
}

export type AgentConfigUpdate = { config: RemoteConfigMessage } | { command: AgentCommand } | Record<string, never>;

export function encodeAgentConfigRequest(request: AgentConfigRequest): Buffer {
  return encode((out) => {
    out.string(1, request.agentId);
    out.string(2, request.advertiseAddress);
    out.string(3, request.knownVersion);
  });
}

/** AgentConfigUpdateProto from its bytes; unknown fields are skipped, truncated input throws. An update of neither kind is `{}`. */
export function decodeAgentConfigUpdate(bytes: Uint8Array): AgentConfigUpdate {
  const input = new ProtoReader(bytes);
  let update: AgentConfigUpdate = {};
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) update = { config: decodeConfig(sub(input)) };
    else if (field === 2 && wireType === LENGTH_DELIMITED) update = { command: decodeCommand(sub(input)) };
    else input.skip(wireType);
  }
  return update;
}

function decodeConfig(input: ProtoReader): RemoteConfigMessage {
  const config: RemoteConfigMessage = { version: "", checksJson: "", collectionIntervalSecs: 0, collectors: {} };
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) config.version = input.string();
    else if (field === 2 && wireType === LENGTH_DELIMITED) config.checksJson = input.string();
    else if (field === 3 && wireType === FIXED64) config.collectionIntervalSecs = input.double();
    else if (field === 4 && wireType === LENGTH_DELIMITED) {
      const [name, on] = decodeBoolEntry(sub(input));
      config.collectors[name] = on;
    } else input.skip(wireType);
  }
  return config;
}

/** A map<string, bool> entry: { key = 1; value = 2 }. */
function decodeBoolEntry(input: ProtoReader): [string, boolean] {
  let key = "", value = false;
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) key = input.string();
    else if (field === 2 && wireType === VARINT) value = input.varint() !== 0;
    else input.skip(wireType);
  }
  return [key, value];
}

function decodeCommand(input: ProtoReader): AgentCommand {
  const command: AgentCommand = { id: "", kind: "", argsJson: "" };
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) command.id = input.string();
    else if (field === 2 && wireType === LENGTH_DELIMITED) command.kind = input.string();
    else if (field === 3 && wireType === LENGTH_DELIMITED) command.argsJson = input.string();
    else input.skip(wireType);
  }
  return command;
}

/** A reader over the next length-delimited field (a nested message). */
function sub(input: ProtoReader): ProtoReader {
  const [start, end] = input.span();
  return new ProtoReader(input.bytes, start, end);
}
