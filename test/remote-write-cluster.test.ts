import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { spawnServer, writeServerConfig, type ServerProcess } from "../scripts/lib/server-process.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { adminHeaders, until } from "./helpers/server.ts";
import { exportFromVictoria, missingBinary, TsdbProcess, VICTORIA_METRICS } from "./helpers/tsdb-binaries.ts";

/*
 * Two server processes on one data dir, as two PM2 instances are, both taking reports: one
 * of them sends, so every point reaches VictoriaMetrics exactly once. When that one is
 * killed (SIGKILL, no goodbye), the other takes the lease over and sends the rest; nothing
 * acknowledged is lost.
 */

const skip = missingBinary(VICTORIA_METRICS, "victoria-metrics");

test("one of two instances sends each point once; when it is killed, the other sends the rest", async (t) => {
  if (skip) {
    t.log(skip);
    console.warn(skip);
    t.pass();
    return;
  }
  t.timeout(180_000);
  const vm = await TsdbProcess.victoriaMetrics();
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-rw-two-"));
  const dataDir = path.join(dir, "data");
  const extra = `[[remote_write]]\nurl = "${vm.url}/api/v1/write"\nbatch_max_samples = 20\nmax_backoff_secs = 2\n`;
  const servers: ServerProcess[] = [];
  const clients: ProtoClient[] = [];
  try {
    for (const name of ["a.toml", "b.toml"]) {
      const config = await writeServerConfig(dir, { dataDir, fileName: name, extra });
      servers.push(await spawnServer(config.file, config.ports));
      clients.push(new ProtoClient(servers.at(-1)!.grpc));
    }
    const start = Date.now() - 20 * 60_000;
    let reports = 0;
    const report = async (via: number[]) => {
      for (const i of via) await clients[i]!.report(makeBatch(`two-${i}`, start + reports * 1000, 4));
      reports++;
    };
    const points = () => countIn(vm);

    for (let i = 0; i < 15; i++) await report([0, 1]);
    const firstRound = 15 * 2 * 4;
    await until(`VictoriaMetrics to hold ${firstRound} points`, async () => ((await points()) === firstRound ? true : undefined), 60_000);
    const sent = await Promise.all(servers.map((s) => sentSamples(s)));
    t.is(sent[0]! + sent[1]!, firstRound, "each point was sent once, by one instance");
    t.true(sent.includes(0), `one instance sent them all (${sent})`);

    const holder = sent[0]! > 0 ? 0 : 1;
    const other = 1 - holder;
    servers[holder]!.child.kill("SIGKILL");
    await servers[holder]!.exited;
    for (let i = 0; i < 10; i++) await report([other]);
    const total = firstRound + 10 * 4;
    await until(`the other instance to take over and VictoriaMetrics to hold ${total} points`, async () => ((await points()) === total ? true : undefined), 90_000,
      async () => `VictoriaMetrics has ${await points()}; survivor's log: ${servers[other]!.output().slice(-1500)}`);
    t.true(await sentSamples(servers[other]!) >= 40);
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill("SIGTERM");
        await s.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    await vm.destroy();
  }
});

async function countIn(vm: TsdbProcess): Promise<number> {
  const got = await exportFromVictoria(vm, '{__name__=~"cpu_.*"}');
  return [...got.values()].reduce((n, p) => n + p.size, 0);
}

async function sentSamples(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`, { headers: await adminHeaders(`${server.http}/metrics`) })).text();
  const line = text.split("\n").find((l) => l.startsWith("tsmon_remote_write_sent_samples_total{"));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}
