import test from "ava";
import type { CheckResult } from "../agent/checks/check.ts";
import { createCheck, validateCheckTables } from "../agent/checks/definitions.ts";
import { formatRecords } from "../agent/checks/dns.ts";
import { startDnsServer, type TestDnsServer } from "./helpers/dns-server.ts";

let server: TestDnsServer;
test.before(async () => {
  server = await startDnsServer({
    A: { "web.tsmon.test": ["10.0.0.7", "10.0.0.8"] },
    TXT: { "web.tsmon.test": ["v=spf1 -all"] },
    silent: ["slow.tsmon.test"],
  });
});
test.after.always(() => server.close());

async function probeOnce(table: Record<string, unknown>): Promise<CheckResult> {
  const { checks, problems } = validateCheckTables([{ name: "resolver", type: "dns", server: server.address, ...table }]);
  if (problems.length) throw new Error(problems.join("; "));
  const def = checks[0]!;
  return createCheck(def).probe({ timeoutMs: def.timeout_ms, signal: AbortSignal.timeout(def.timeout_ms) });
}

test("dns: an A query against the given server is up, with its time and the answer", async (t) => {
  const result = await probeOnce({ target: "web.tsmon.test" });
  t.true(result.up, result.reason?.message);
  t.true(result.figures.rtt_ms! >= 0);
  t.is(result.detail, "10.0.0.7\n10.0.0.8");
  t.true((await probeOnce({ target: "web.tsmon.test", expect: "10.0.0.8" })).up);
  t.true((await probeOnce({ target: "web.tsmon.test", record_type: "TXT", expect: "/^v=spf1/" })).up);
});

test("dns: a wrong answer, a missing record type and an unknown name are down, each saying why", async (t) => {
  const wrong = await probeOnce({ target: "web.tsmon.test", expect: "10.0.0.9" });
  t.is(wrong.reason?.code, "expect");
  t.regex(wrong.reason!.message, /no record matches "10\.0\.0\.9"/);
  const noAaaa = await probeOnce({ target: "web.tsmon.test", record_type: "AAAA" });
  t.is(noAaaa.reason?.code, "expect");
  t.regex(noAaaa.reason!.message, /has no AAAA record/);
  const nx = await probeOnce({ target: "nope.tsmon.test" });
  t.is(nx.reason?.code, "dns");
  t.regex(nx.reason!.message, /NXDOMAIN/);
});

test("dns: a server that does not answer is a timeout", async (t) => {
  const result = await probeOnce({ target: "slow.tsmon.test", timeout_ms: 300 });
  t.false(result.up);
  t.is(result.reason?.code, "timeout");
});

test("dns: records of every shape become one readable line each", (t) => {
  t.deepEqual(formatRecords(["1.2.3.4", ["v=spf1 ", "-all"], { exchange: "mx.example.com", priority: 10 }, { name: "sip.example.com", port: 5060, priority: 1, weight: 5 }]),
    ["1.2.3.4", "v=spf1 -all", "10 mx.example.com", "1 5 5060 sip.example.com"]);
});
