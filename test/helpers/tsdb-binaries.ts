import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { until } from "./server.ts";

/*
 * Debian's VictoriaMetrics and Prometheus binaries, started by a test on a free loopback
 * port with storage in a temporary directory, to receive tsmon's remote_write.
 */

export const VICTORIA_METRICS = "/usr/bin/victoria-metrics";
export const PROMETHEUS = "/usr/bin/prometheus";
export const PROMTOOL = "/usr/bin/promtool";

/** A loopback port free a moment ago (the binaries take no port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A receiver process that can be stopped and started again on the same port and storage. */
export class TsdbProcess {
  private child: ChildProcess | undefined;
  private output = "";
  readonly storage: string;

  private constructor(readonly binary: string, readonly port: number, private readonly args: (storage: string, port: number) => string[], private readonly readyPath: string) {
    this.storage = mkdtempSync(path.join(tmpdir(), "tsmon-tsdb-"));
  }

  static async victoriaMetrics(): Promise<TsdbProcess> {
    const vm = new TsdbProcess(VICTORIA_METRICS, await freePort(), (storage, port) => [
      `-storageDataPath=${storage}`, `-httpListenAddr=127.0.0.1:${port}`, "-loggerLevel=ERROR", "-search.latencyOffset=0s", "-retentionPeriod=100y",
    ], "/health");
    await vm.start();
    return vm;
  }

  static async prometheus(): Promise<TsdbProcess> {
    const prom = new TsdbProcess(PROMETHEUS, await freePort(), (storage, port) => [
      `--storage.tsdb.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, "--web.enable-remote-write-receiver",
      `--config.file=${path.join(storage, "prometheus.yml")}`, "--log.level=error",
    ], "/-/ready");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path.join(prom.storage, "prometheus.yml"), "global: {}\n");
    await prom.start();
    return prom;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(this.binary, this.args(this.storage, this.port), { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const keep = (chunk: Buffer) => { this.output = (this.output + chunk.toString()).slice(-4000); };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`${this.binary} exited (${code}): ${this.output}`))));
    exited.catch(() => undefined);
    await Promise.race([exited, until(`${this.binary} to answer ${this.readyPath}`, async () => {
      const res = await fetch(this.url + this.readyPath).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, 60_000, async () => this.output)]);
  }

  /** Stops the process (SIGTERM, then waits for its exit). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops it and deletes its storage. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.storage, { recursive: true, force: true });
  }
}

/** Every sample VictoriaMetrics holds for `match`, through /api/v1/export, as `series → timestamp → value`. */
export async function exportFromVictoria(vm: TsdbProcess, match = '{__name__=~".+"}'): Promise<Map<string, Map<number, number>>> {
  await fetch(`${vm.url}/internal/force_flush`);
  const res = await fetch(`${vm.url}/api/v1/export?${new URLSearchParams({ "match[]": match, start: "0" })}`);
  if (!res.ok) throw new Error(`export: HTTP ${res.status}: ${await res.text()}`);
  const out = new Map<string, Map<number, number>>();
  for (const line of (await res.text()).split("\n")) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
    const key = JSON.stringify(Object.entries(row.metric).sort());
    const points = out.get(key) ?? new Map<number, number>();
    row.timestamps.forEach((ts, i) => points.set(ts, row.values[i]!));
    out.set(key, points);
  }
  return out;
}

/** Why a test of a missing binary is skipped, for t.log and the console. */
export function missingBinary(binary: string, pkg: string): string | undefined {
  return existsSync(binary) ? undefined : `SKIPPED: ${binary} is not installed; install it with: apt-get install -y ${pkg}`;
}
