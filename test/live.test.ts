import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { WebSocketServer, type WebSocket } from "ws";
import { LiveHub } from "../server/live/hub.ts";
import { LiveRelay, liveSocketPrefix } from "../server/live/relay.ts";
import { createLogger } from "../server/log.ts";
import { tempControlStore } from "./helpers/temp-control.ts";
import type { SampleBlock } from "../server/actors/protocol/messages.ts";
import { toSeriesText } from "../common/series-text.ts";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { getJson, startTestServer, type TestServer } from "./helpers/server.ts";
import { LiveClient } from "./helpers/ws-client.ts";

let server: TestServer;
let grpcClient: ProtoClient;

test.before(async () => {
  server = await startTestServer();
  grpcClient = new ProtoClient(server.grpc);
});
test.after.always(async () => {
  grpcClient?.close();
  await server?.stop();
});

const wsUrl = (s: { http: string }) => s.http.replace("http://", "ws://") + "/v1/live";

test.serial("a subscribed client receives each matching report sent over gRPC", async (t) => {
  const live = await LiveClient.connect(wsUrl(server));
  t.teardown(() => live.close());
  t.is((await live.next((m) => m.type === "hello")).server, "tsmon");
  live.send({ type: "subscribe", agents: ["live-*"], metrics: ["cpu.usage"] });
  t.deepEqual(await live.next((m) => m.type === "subscribed"), { type: "subscribed", agents: ["live-*"], metrics: ["cpu.usage"], alerts: true });

  const ts = Date.now() - 1000;
  await grpcClient.report(makeBatch("other-01", ts, 3));
  const sent = performance.now();
  await grpcClient.report(makeBatch("live-01", ts, 3));
  const msg = await live.next((m) => m.type === "report");
  const latencyMs = performance.now() - sent;
  t.log(`live feed: report sent over gRPC → WebSocket message in ${latencyMs.toFixed(1)} ms`);
  t.is(msg.agent_id, "live-01");
  t.deepEqual(msg.values.map((v: any) => [v.metric, v.timestamp_ms]), [["cpu.usage", ts]]);
  await sleep(100);
  t.is(live.messages.filter((m) => m.type === "report").length, 1, "the non-matching agent was not sent");
});

test.serial("malformed client messages get an error and the connection stays usable", async (t) => {
  const live = await LiveClient.connect(wsUrl(server));
  t.teardown(() => live.close());
  live.send("not json");
  t.regex((await live.next((m) => m.type === "error")).error, /^message: .*send \{"type":"subscribe"/);
  live.send({ type: "subscribe", agents: "web-*" });
  const errors = () => live.messages.filter((m) => m.type === "error");
  await live.next(() => errors().length === 2);
  t.regex(errors()[1].error, /^agents: /);
  live.send({ type: "subscribe", agents: ["*"] });
  t.deepEqual((await live.next((m) => m.type === "subscribed")).metrics, ["*"]);
});

test.serial("GET /v1/live without an upgrade answers 426; other upgrade paths are refused", async (t) => {
  const res = await getJson(`${server.http}/v1/live`);
  t.is(res.status, 426);
  assertDocumented(t, "GET", "/v1/live", 426, res.body);
  await t.throwsAsync(LiveClient.connect(server.http.replace("http://", "ws://") + "/v1/elsewhere"), { message: /404/ });
});

function block(n: number): SampleBlock {
  return {
    series: toSeriesText(Array.from({ length: n }, (_, i) => ["m", { i: String(i) }] as const)),
    timestamps: new Float64Array(n).fill(1), values: new Float64Array(n).fill(0.5),
  };
}

test("a client that does not read is skipped past a bounded buffer and told how much it missed", async (t) => {
  const bound = 256 * 1024;
  const hub = new LiveHub(bound, "test");
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  t.teardown(() => wss.close());
  await new Promise((resolve) => wss.once("listening", resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const live = await LiveClient.connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, {}); // a bare ws server: no login
  t.teardown(() => live.close());
  const serverSide = await accepted;
  const client = hub.add(serverSide);
  hub.subscribe(client, ["*"], ["*"]);
  await live.next((m) => m.type === "subscribed");

  (live.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const published = 3000;
  let maxBuffered = 0;
  for (let i = 0; i < published; i++) {
    hub.publish("slow-agent", block(100));
    maxBuffered = Math.max(maxBuffered, serverSide.bufferedAmount);
    if (i % 100 === 0) await sleep(1); // let the socket flush what the kernel takes
  }
  const dropped = hub.stats().dropped;
  t.true(dropped > 0, "the slow client was skipped");
  t.true(maxBuffered <= bound + 20_000, `server-side buffer stayed bounded (max ${maxBuffered} bytes)`);

  (live.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  while (serverSide.bufferedAmount > bound) await sleep(10);
  hub.publish("slow-agent", block(1)); // the next message carries the drop notice
  const notice = await live.next((m) => m.type === "dropped");
  t.is(notice.count, dropped);
  await live.next((m) => m.type === "report" && m.values.length === 1);
  t.is(live.messages.filter((m) => m.type === "report").length, published - dropped + 1, "every message not dropped arrived");
});

test("a client on one server process receives reports ingested by another sharing the data dir", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-live2-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, "data");
  const a = await writeServerConfig(dir, { dataDir, fileName: "a.toml" });
  const b = await writeServerConfig(dir, { dataDir, fileName: "b.toml" });
  const serverA = await spawnServer(a.file, a.ports);
  t.teardown(() => { serverA.child.kill("SIGKILL"); });
  const serverB = await spawnServer(b.file, b.ports);
  t.teardown(() => { serverB.child.kill("SIGKILL"); });

  const live = await LiveClient.connect(wsUrl(serverA));
  t.teardown(() => live.close());
  live.send({ type: "subscribe", agents: ["cross-*"], metrics: ["*"] });
  await live.next((m) => m.type === "subscribed");
  // B learns within a refresh (1 s) that A has a live client; a loaded machine may take
  // longer, so B is sent a report every half second until one reaches A's client.
  const client = new ProtoClient(serverB.grpc);
  t.teardown(() => client.close());
  let msg: any;
  for (let i = 0; i < 60 && !msg; i++) {
    await client.report(makeBatch("cross-01", Date.now() - 1000, 2));
    msg = await live.next((m) => m.type === "report", 500).catch(() => undefined);
  }
  t.truthy(msg, "no report ingested by B reached A's live client in 30 s");
  t.is(msg.agent_id, "cross-01");
  t.is(msg.values.length, 2);
  serverA.child.kill("SIGTERM");
  serverB.child.kill("SIGTERM");
  t.is(await serverA.exited, 0);
  t.is(await serverB.exited, 0);
});

test("a relay starting on a data dir clears the socket and registry entry of a process killed outright", async (t) => {
  const { dir, control } = tempControlStore(t);
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // exited: its pid names no process now
  const deadSocket = path.join(tmpdir(), `${liveSocketPrefix(dir)}${dead}.sock`);
  writeFileSync(deadSocket, "");
  await control.livePeers.put(dead, { pid: dead, socket: deadSocket, hasClients: true, heartbeat: Date.now() - 60_000 });
  // A peer whose process is alive stays, even with a late heartbeat (a busy moment; this
  // test's parent process stands in for it).
  const aliveSocket = path.join(tmpdir(), `${liveSocketPrefix(dir)}${process.ppid}.sock`);
  writeFileSync(aliveSocket, "");
  t.teardown(() => rmSync(aliveSocket, { force: true }));
  await control.livePeers.put(process.ppid, { pid: process.ppid, socket: aliveSocket, hasClients: true, heartbeat: Date.now() - 60_000 });

  const relay = new LiveRelay(control.livePeers, dir, { publish: () => {}, publishAlert: () => {} }, createLogger("silent"));
  await relay.start();
  t.teardown(() => relay.close());
  t.false(existsSync(deadSocket), "the dead process's socket file is gone");
  t.true(existsSync(aliveSocket), "a live process's socket file stays");
  t.deepEqual([...control.livePeers.getKeys({})].sort(), [process.ppid, process.pid].sort());
});
