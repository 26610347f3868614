import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { metricName } from "../server/remote-write/labels.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";
import { exportFromVictoria, missingBinary, TsdbProcess, VICTORIA_METRICS } from "./helpers/tsdb-binaries.ts";

/*
 * tsmon forwards every stored point to a real VictoriaMetrics (Debian's binary) over
 * remote_write, and loses none through a receiver outage during which tsmon itself restarts:
 * what VictoriaMetrics exports equals, series by series and point by point, what tsmon stores.
 */

const skip = missingBinary(VICTORIA_METRICS, "victoria-metrics");
const AGENTS = ["rw-web-01", "rw-db-01"];
/** The receiver stays down this long while reports go on (TSMON_RW_OUTAGE_SECS to change). */
const OUTAGE_MS = Number(process.env.TSMON_RW_OUTAGE_SECS ?? 60) * 1000;
const START = Date.now() - 30 * 60_000;

test("every stored point reaches VictoriaMetrics, through a receiver outage and a tsmon restart", async (t) => {
  if (skip) {
    t.log(skip);
    console.warn(skip);
    t.pass();
    return;
  }
  t.timeout(OUTAGE_MS + 180_000);
  const vm = await TsdbProcess.victoriaMetrics();
  const dataDir = mkdtempSync(path.join(tmpdir(), "tsmon-rw-"));
  const settings = {
    data_dir: dataDir,
    // Small requests: a report of 5 points is split across two, and batches span reports.
    remote_write: [{ url: `${vm.url}/api/v1/write`, batch_max_samples: 7, max_backoff_secs: 2 }],
  };
  let server: TestServer | undefined;
  let client: ProtoClient | undefined;
  try {
    server = await startTestServer(settings, dataDir);
    client = new ProtoClient(server.grpc);
    let sentReports = 0;
    const report = async () => {
      const ts = START + sentReports * 1000;
      for (const agent of AGENTS) await client!.report(makeBatch(agent, ts, 5));
      sentReports++;
    };

    // Before the outage: reports flow through.
    for (let i = 0; i < 20; i++) await report();
    await waitForEqual(t, server, vm, () => sentReports);

    // The receiver goes away; reports go on and are acknowledged; tsmon restarts halfway.
    await vm.stop();
    const outageEnds = Date.now() + OUTAGE_MS;
    const restartAt = Date.now() + OUTAGE_MS / 2;
    let restarted = false;
    while (Date.now() < outageEnds) {
      await report();
      if (!restarted && Date.now() >= restartAt) {
        const failures = await metricValue(server, 'tsmon_remote_write_failures_total{remote="' + remote(vm) + '",reason="network"}');
        t.true(failures > 0, "the sender saw the receiver down");
        client.close();
        await server.stop();
        server = await startTestServer(settings, dataDir);
        client = new ProtoClient(server.grpc);
        restarted = true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    t.true(restarted);
    t.log(`${sentReports} reports per agent, ${AGENTS.length * sentReports * 5} points; receiver down ${OUTAGE_MS / 1000} s`);
    await vm.start();
    for (let i = 0; i < 5; i++) await report();
    await waitForEqual(t, server, vm, () => sentReports);

    t.is(await metricValue(server, `tsmon_remote_write_dropped_samples_total`), 0);
    await until("the queue to be empty", async () => (await metricValue(server!, "tsmon_remote_write_queue_bytes")) === 0 || undefined);
  } finally {
    client?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await vm.destroy();
  }
});

function remote(vm: TsdbProcess): string {
  return `127.0.0.1:${vm.port}/api/v1/write`;
}

/** Polls until VictoriaMetrics holds exactly the points tsmon stores, then compares them. */
async function waitForEqual(t: import("ava").ExecutionContext, server: TestServer, vm: TsdbProcess, reports: () => number): Promise<void> {
  const expected = await storedPoints(server);
  const total = [...expected.values()].reduce((n, points) => n + points.size, 0);
  t.is(total, AGENTS.length * reports() * 5, "tsmon stored every acknowledged point");
  let last = -1;
  await until(`VictoriaMetrics to hold ${total} points`, async () => {
    const got = await exportFromVictoria(vm, '{__name__=~"cpu_.*"}');
    last = [...got.values()].reduce((n, points) => n + points.size, 0);
    return last === total ? true : undefined;
  }, 120_000, async () => `VictoriaMetrics has ${last}`);
  const got = await exportFromVictoria(vm, '{__name__=~"cpu_.*"}');
  t.deepEqual(sorted(got), sorted(expected));
}

/** Every point tsmon stores for the test agents, keyed as the remote-write labels name the series. */
async function storedPoints(server: TestServer): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const agent of AGENTS) {
    for (const metric of ["cpu.usage", "cpu.core_usage"]) {
      const { status, body } = await getJson(`${server.http}/v1/metrics?${new URLSearchParams({ agent, metric, from: String(START - 1000), to: String(Date.now()) })}`);
      if (status !== 200) throw new Error(`GET /v1/metrics: ${status} ${JSON.stringify(body)}`);
      for (const series of body.series as { labels: Record<string, string>; points: [number, number][] }[]) {
        const labels = { __name__: metricName(metric), instance: agent, agent_id: agent, ...series.labels };
        out.set(JSON.stringify(Object.entries(labels).sort()), new Map(series.points));
      }
    }
  }
  return out;
}

/**
 * Series in key order, points in time order, values to 12 significant digits: VictoriaMetrics
 * keeps a value as a decimal, so 10 + 6.01 (16.009999999999998 as a double) comes back 16.01.
 */
function sorted(map: Map<string, Map<number, number>>): [string, [number, number][]][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, [...v].map(([ts, value]): [number, number] => [ts, Number(value.toPrecision(12))]).sort((a, b) => a[0] - b[0])]);
}

/** The sum of a /metrics family's samples matching `selector` (name or name{labels}). */
async function metricValue(server: TestServer, selector: string): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`, { headers: await (await import("./helpers/server.ts")).adminHeaders(`${server.http}/metrics`) })).text();
  const [name, labels] = selector.includes("{") ? [selector.slice(0, selector.indexOf("{")), selector.slice(selector.indexOf("{") + 1, -1).split(",")] : [selector, []];
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
