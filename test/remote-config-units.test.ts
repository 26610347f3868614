import test from "ava";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import protobuf from "protobufjs";
import { fileURLToPath } from "node:url";
import { validateCheckTables } from "../agent/checks/definitions.ts";
import { RemoteConfigCache } from "../agent/remote-config/cache.ts";
import { combineChecks } from "../agent/remote-config/combine.ts";
import { decodeAgentConfigUpdate, encodeAgentConfigRequest } from "../agent/remote-config/wire.ts";
import { parseCheckInput } from "../server/agent-config/check-input.ts";
import { effectiveConfig, type ConfigSources } from "../server/agent-config/effective.ts";
import { meshChecks, splitAddress } from "../server/agent-config/mesh.ts";
import type { AgentAddress } from "../server/agent-config/store.ts";
import { encodeConfigUpdate, peerHost } from "../server/grpc/agent-config-watch.ts";
import { envOverrides } from "../server/config/env.ts";
import { buildServerConfig } from "../server/config/load.ts";
import { serverConfigSchema } from "../server/config/schema.ts";

/* The pure parts of remote config: mesh and effective-config builders, input checks, the union of local and remote, the wire codec, the cache file. */

const MESH = { mesh: true, mesh_max_targets: 100, mesh_interval_secs: 30 };
const addr = (agent_id: string, address: string, advertised = false): AgentAddress => ({ agent_id, address, advertised, seen_at: 0 });

test("mesh: an icmp check per other agent, named mesh:<id>, sorted by id, bounded; tcp where a port was advertised", (t) => {
  const peers = [addr("c", "10.0.0.3"), addr("a", "10.0.0.1:9100", true), addr("b", "[fd00::2]")];
  t.deepEqual(meshChecks("b", peers, MESH), [
    { name: "mesh:a", type: "icmp", target: "10.0.0.1", interval_secs: 30 },
    { name: "mesh-tcp:a", type: "tcp", target: "10.0.0.1", interval_secs: 30, port: 9100 },
    { name: "mesh:c", type: "icmp", target: "10.0.0.3", interval_secs: 30 },
  ]);
  t.deepEqual(meshChecks("c", peers, { ...MESH, mesh_max_targets: 1 }).map((c) => c.name), ["mesh:a", "mesh-tcp:a"], "the first peers by id");
  t.deepEqual(meshChecks("a", peers, { ...MESH, mesh: false }), [], "off by default");
  const many = Array.from({ length: 150 }, (_, i) => addr(`agent-${String(i).padStart(3, "0")}`, `10.1.0.${i}`));
  t.is(meshChecks("agent-000", many, MESH).length, 100);
  t.deepEqual(splitAddress("[::1]:80"), { host: "::1", port: 80 });
  t.deepEqual(splitAddress("host"), { host: "host" });
  t.is(peerHost("127.0.0.1:5000"), "127.0.0.1");
  t.is(peerHost("[::ffff:10.0.0.1]:5000"), "10.0.0.1");
  t.is(peerHost("ipv6:[::1]:5000"), "::1");
});

const stored = (name: string, agent_pattern: string) => ({ name, agent_pattern, table: { name, type: "tcp", target: "db", port: 5432 }, created_at: 0, updated_at: 0 });

test("effective config: checks of matching patterns and the mesh, settings merged with the longer pattern winning; the version follows the content", (t) => {
  const sources: ConfigSources = {
    checks: [stored("db", "web-*"), stored("all", "*"), stored("other", "db-?")],
    settings: [
      { pattern: "*", collection_interval_secs: 30, collectors: { gpu: false, disk: false }, updated_at: 0 },
      { pattern: "web-*", collection_interval_secs: 5, collectors: { disk: true }, updated_at: 0 },
    ],
    addresses: [addr("web-1", "10.0.0.1"), addr("web-2", "10.0.0.2")],
    reachability: MESH,
  };
  const web1 = effectiveConfig("web-1", sources);
  t.deepEqual(web1.checks.map((c) => c.name), ["all", "db", "mesh:web-2"]);
  t.is(web1.collection_interval_secs, 5);
  t.deepEqual(web1.collectors, { disk: true, gpu: false });
  const db1 = effectiveConfig("db-1", sources);
  t.deepEqual(db1.checks.map((c) => c.name), ["all", "mesh:web-1", "mesh:web-2", "other"]);
  t.is(db1.collection_interval_secs, 30);
  t.is(effectiveConfig("web-1", sources).version, web1.version, "same content, same version");
  t.not(effectiveConfig("web-1", { ...sources, checks: sources.checks.slice(1) }).version, web1.version);
  t.deepEqual(effectiveConfig("x", { checks: [], settings: [], addresses: [], reachability: { ...MESH, mesh: false } }).collectors, {});
});

test("check input: validated by the agent's schemas, every problem named by field; names are URL-safe and mesh: is reserved", (t) => {
  t.like(parseCheckInput({ name: "db", type: "tcp", target: "10.0.0.1", port: 5432 }), { name: "db", agent_pattern: "*" });
  const problems = (body: unknown, id?: string) => {
    try {
      parseCheckInput(body, id);
    } catch (err) {
      return (err as Error).message;
    }
    return "";
  };
  t.regex(problems({ name: "x", type: "gopher", target: "h" }), /^type: unknown check type; expected one of icmp, tcp, udp, http, https, dns/);
  t.is(problems({ name: "db", type: "tcp", target: "h", port: 70000, colour: 1 }), 'port: Too big: expected number to be <=65535; body: Unrecognized key: "colour"');
  t.is(problems({ name: "a b", type: "tcp", target: "h", port: 1 }), "name: use only letters, digits and . _ : - (the name is the check's id in URLs); name: must be printable ASCII without spaces");
  t.regex(problems({ name: "mesh:x", type: "tcp", target: "h", port: 1 }), /^name: names starting with "mesh:" are reserved/);
  t.regex(problems({ name: "db", type: "tcp", target: "h", port: 1, agent_pattern: "web *" }), /^agent_pattern: expected a glob/);
  t.regex(problems({ name: "db", type: "tcp", target: "h", port: 1, agent_pattern: 5 }), /^agent_pattern: expected a glob/);
  t.regex(problems({ name: "other", type: "tcp", target: "h", port: 1 }, "db"), /^name: "other" differs from the id in the path/);
  t.like(parseCheckInput({ type: "tcp", target: "h", port: 1 }, "db"), { name: "db" }, "PUT takes the name from the path");
  t.regex(problems([1]), /^body: expected a JSON object/);
  t.regex(problems({ type: "tcp", target: "h", port: 1 }), /^name: /);
});

test("combine: local ∪ server-managed, the server's check winning a name; a server check this agent cannot run is skipped alone", (t) => {
  const local = validateCheckTables([
    { name: "db", type: "tcp", target: "10.0.0.1", port: 5432 },
    { name: "web", type: "http", target: "http://example.com/" },
  ]).checks;
  const combined = combineChecks(local, [
    { name: "db", type: "tcp", target: "10.0.0.9", port: 5433 },
    { name: "ping", type: "no-such-type", target: "10.0.0.2" },
    { name: "dns", type: "dns", target: "example.com" },
  ], validateCheckTables);
  t.deepEqual(combined.checks.map((c) => `${c.name} ${c.label}`), ["db 10.0.0.9:5433", "dns example.com", "web http://example.com/"]);
  t.is(combined.remote, 2);
  t.is(combined.local, 1);
  t.is(combined.skipped.length, 1);
  t.regex(combined.skipped[0]!, /^ping: type: unknown check type; expected one of icmp, tcp, udp, http, https, dns/);
});

test("wire: the agent's request encoder and update decoder agree with protobufjs on proto/metrics.proto", (t) => {
  const root = new protobuf.Root().loadSync(fileURLToPath(new URL("../proto/metrics.proto", import.meta.url)), { keepCase: true });
  const Request = root.lookupType("oxmon.AgentConfigRequest");
  t.deepEqual(Request.toObject(Request.decode(encodeAgentConfigRequest({ agentId: "web-1", advertiseAddress: "10.0.0.1:9100", knownVersion: "abc" }))),
    { agent_id: "web-1", advertise_address: "10.0.0.1:9100", known_version: "abc" });
  const update = decodeAgentConfigUpdate(encodeConfigUpdate({ version: "v1", checks: [{ name: "db", type: "tcp" }], collection_interval_secs: 2.5, collectors: { cpu: true, gpu: false } }));
  t.deepEqual(update, { config: { version: "v1", checksJson: '[{"name":"db","type":"tcp"}]', collectionIntervalSecs: 2.5, collectors: { cpu: true, gpu: false } } });
  const Update = root.lookupType("oxmon.AgentConfigUpdateProto");
  const command = Update.encode(Update.fromObject({ command: { id: "c1", kind: "traceroute", args_json: "{}" } })).finish();
  t.deepEqual(decodeAgentConfigUpdate(command), { command: { id: "c1", kind: "traceroute", argsJson: "{}" } });
  t.throws(() => decodeAgentConfigUpdate(Buffer.from([0x0a, 0x05, 0x01])), undefined, "truncated input throws");
});

test("cache: written atomically (no temporary left), read back; an empty config removes it; a corrupt file is reported and ignored", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-cache-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cache = new RemoteConfigCache(path.join(dir, "state"));
  const problems: string[] = [];
  t.is(cache.read((p) => problems.push(p)), undefined);
  const config = { version: "v1", checks: [{ name: "db" }], collectionIntervalSecs: 5, collectors: { gpu: false } };
  cache.write(config);
  t.deepEqual(cache.read((p) => problems.push(p)), config);
  t.deepEqual(readdirSync(path.join(dir, "state")), ["remote-config.json"]);
  cache.write({ version: "v2", checks: [], collectors: {} });
  t.deepEqual(readdirSync(path.join(dir, "state")), []);
  writeFileSync(cache.file, "{not json");
  t.is(cache.read((p) => problems.push(p)), undefined);
  t.is(problems.length, 1);
  t.regex(problems[0]!, /ignoring .*remote-config.json: .*rewritten when the server sends the config/);
  t.is(readFileSync(cache.file, "utf8"), "{not json");
});

test("[reachability]: the mesh is off by default; the file or TSMON_REACHABILITY__MESH turns it on", (t) => {
  t.like(buildServerConfig({}).reachability, { mesh: false, mesh_max_targets: 100, mesh_interval_secs: 30 });
  t.deepEqual(envOverrides(serverConfigSchema, { TSMON_REACHABILITY__MESH: "true", TSMON_REACHABILITY__MESH_MAX_TARGETS: "5" }).values,
    { reachability: { mesh: true, mesh_max_targets: 5 } });
  t.throws(() => buildServerConfig({ reachability: { mesh: true, mesh_max_targets: 0 } } as never), { message: /reachability\.mesh_max_targets/ });
});
