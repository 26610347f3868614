import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { adminFetch } from "./helpers/server.ts";
import { makeBatch, ProtoClient } from "./helpers/proto-client.ts";
import { Admission } from "../server/actors/ingest/admission.ts";
import { ByteBudget } from "../server/actors/ingest/byte-budget.ts";

const here = path.dirname(new URL(import.meta.url).pathname);

/*
 * Admission before work: a flood of reports with garbage tokens and one greedy agent that
 * ignores back-pressure must not cost a well-behaved agent its reports. The server runs as
 * a process of its own, so the flood's clients do not share its event loop.
 */

async function whitelist(http: string, agentId: string): Promise<string> {
  const res = await adminFetch(`${http}/v1/agents/whitelist`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agent_id: agentId }),
  });
  return ((await res.json()) as { token: string }).token;
}

/** `count` reports of `agentId`, one every `everyMs` (the next waits for the last answer): elapsed ms and the codes. */
async function paced(client: ProtoClient, agentId: string, token: string, count: number, everyMs: number, from: number) {
  const started = Date.now();
  const codes: number[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * everyMs;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const sent = Date.now();
    codes.push(await client.report(makeBatch(agentId, from + i * 1000), token).then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code));
    latencies.push(Date.now() - sent);
  }
  latencies.sort((a, b) => a - b);
  return { elapsed: Date.now() - started, codes, latency: `p50 ${latencies[count >> 1]} ms, max ${latencies[count - 1]} ms` };
}

/** A flood in a process of its own (test/helpers/flood.ts); `stop` ends it and resolves with its answers by status. */
function flood(address: string, agentId: string, token: string, outstanding: number) {
  const child = spawn(process.execPath, ["--import=tsx", path.join(here, "helpers/flood.ts"), address, agentId, token, String(outstanding)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  const done = new Promise<Record<string, number>>((resolve) => child.on("exit", () => resolve(out ? JSON.parse(out) as Record<string, number> : {})));
  return { child, stop: () => { child.stdin!.end(); return done; } };
}

test("a flood of bad tokens and a greedy agent leave a well-behaved agent its rate, never RESOURCE_EXHAUSTED", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-admission-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = await writeServerConfig(dir, { extra: "require_agent_auth = true\n", logLevel: "warn" });
  const server = await spawnServer(config.file, config.ports);
  t.teardown(() => { server.child.kill("SIGKILL"); });
  const goodToken = await whitelist(server.http, "good");
  const greedyToken = await whitelist(server.http, "greedy");
  const good = new ProtoClient(server.grpc);
  t.teardown(() => good.close());
  const from = Date.now() - 3_600_000;

  // Five reports a second: far more than a real agent sends (one every few seconds), so a
  // queue that made it wait would show, yet a report may take 200 ms on a busy two-core
  // machine (the flood's clients share it) without the agent falling behind its pace.
  const REPORTS = 30, EVERY_MS = 200;
  const rate = (run: { elapsed: number }) => REPORTS / (run.elapsed / 1000);
  const calm = await paced(good, "good", goodToken, REPORTS, EVERY_MS, from);
  t.true(calm.codes.every((c) => c === grpc.status.OK), `unflooded: ${calm.codes}`);

  // More in flight than ingest has places (576 by default), so without admission both floods fill the queue.
  const greedy = flood(server.grpc, "greedy", greedyToken, 700);
  const bad = flood(server.grpc, "good", "random", 300);
  t.teardown(() => { greedy.child.kill("SIGKILL"); bad.child.kill("SIGKILL"); });
  await new Promise((r) => setTimeout(r, 3_000));
  const flooded = await paced(good, "good", goodToken, REPORTS, EVERY_MS, from + 100_000);
  const [greedySeen, badSeen] = await Promise.all([greedy.stop(), bad.stop()]);

  t.log(`unflooded ${rate(calm).toFixed(1)} reports/s, flooded ${rate(flooded).toFixed(1)}; latency unflooded ${calm.latency}, flooded ${flooded.latency}; greedy ${JSON.stringify(greedySeen)}, bad tokens ${JSON.stringify(badSeen)}`);
  const refused = flooded.codes.filter((c) => c !== grpc.status.OK);
  t.deepEqual(refused.map((c) => grpc.status[c]), [], "the well-behaved agent's reports are all stored");
  t.true(rate(flooded) >= 0.9 * rate(calm), `${rate(flooded).toFixed(1)} reports/s flooded against ${rate(calm).toFixed(1)} unflooded`);
  t.true((badSeen.UNAUTHENTICATED ?? 0) > 100, `bad tokens were refused: ${JSON.stringify(badSeen)}`);
  t.true((greedySeen.RESOURCE_EXHAUSTED ?? 0) > 0, `the greedy agent was held to its share: ${JSON.stringify(greedySeen)}`);
  t.true((greedySeen.OK ?? 0) > 0, "and still got its share stored");
});

test("Admission: an unknown token costs a lookup and no place; a sender holds at most its share; bytes are bounded", (t) => {
  const bytes = new ByteBudget(1_000);
  let lookups = 0, refreshes = 0;
  const admission = new Admission({
    requireAgentAuth: true, bytes, perSender: 2,
    agentOfToken: (token) => { lookups++; return token === "tok-a" ? "a" : undefined; },
    refresh: () => refreshes++,
  });
  t.throws(() => admission.identify(undefined, "peer"), { message: /requires agent authentication/ });
  t.throws(() => admission.identify("nope", "peer"), { message: /unknown agent token/ });
  t.throws(() => admission.identify("nope-2", "peer"), { message: /unknown agent token/ });
  t.is(refreshes, 1, "a miss renews the snapshot (a token whitelisted a moment ago), at most a few times a second");
  t.is(admission.identify("tok-a", "peer"), "a");
  const before = lookups;
  t.is(admission.identify("tok-a", "peer"), "a");
  t.is(lookups, before, "a verified token is cached");

  const one = admission.admit("a", 400), two = admission.admit("a", 400);
  t.throws(() => admission.admit("a", 1), { message: /already has 2 reports in flight/ });
  t.throws(() => admission.admit("b", 300), { message: /ingest_queue_bytes/ }, "800 of 1,000 bytes held: 300 more do not fit");
  t.is(bytes.inUse, 800, "a refusal takes nothing");
  admission.release(one);
  admission.release(two);
  t.is(bytes.inUse, 0);
  t.is(admission.senders, 0);
  t.notThrows(() => admission.admit("b", 1_000));
});
