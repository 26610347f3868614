import { execFile } from "node:child_process";
import { promisify } from "node:util";
import test from "ava";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { startTestServer, until } from "./helpers/server.ts";
import { missingBinary, PROMETHEUS, PROMTOOL, TsdbProcess } from "./helpers/tsdb-binaries.ts";

/* tsmon's remote_write against Debian's Prometheus (--web.enable-remote-write-receiver):
 * promtool, Prometheus' own client, sees the series with the documented names and labels. */

const run = promisify(execFile);
const skip = missingBinary(PROMETHEUS, "prometheus") ?? missingBinary(PROMTOOL, "prometheus");

test("Prometheus receives tsmon's series; promtool query instant sees them", async (t) => {
  if (skip) {
    t.log(skip);
    console.warn(skip);
    t.pass();
    return;
  }
  const prom = await TsdbProcess.prometheus();
  const server = await startTestServer({
    remote_write: [{ url: `${prom.url}/api/v1/write`, max_backoff_secs: 2, external_labels: { region: "test-1" } }],
  });
  const client = new ProtoClient(server.grpc);
  try {
    // Prometheus takes samples in time order per series, close to now.
    const start = Date.now() - 20_000;
    for (let i = 0; i < 10; i++) await client.report(makeBatch("prom-agent-01", start + i * 1000, 3));

    const query = 'cpu_core_usage{instance="prom-agent-01",agent_id="prom-agent-01",region="test-1"}';
    const out = await until("promtool to see the series", async () => {
      const { stdout } = await run(PROMTOOL, ["query", "instant", prom.url, query]);
      return stdout.includes("core=") && stdout.split("\n").filter((l) => l.includes("=>")).length === 2 ? stdout : undefined;
    }, 60_000);
    t.regex(out, /cpu_core_usage\{agent_id="prom-agent-01", core="0", instance="prom-agent-01", region="test-1"\} => 1\.25/);
    t.regex(out, /core="1".* => 2\.25/);
    const usage = await run(PROMTOOL, ["query", "instant", prom.url, 'count_over_time(cpu_usage{instance="prom-agent-01"}[5m])']);
    t.regex(usage.stdout, /=> 10 @/, "every sample of the series arrived");
  } finally {
    client.close();
    await server.stop();
    await prom.destroy();
  }
});
