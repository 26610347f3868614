import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { TsmonError } from "../../common/errors.ts";
import { ConfigError } from "../config/load.ts";
import type { CertCheckerTask, IngestTask } from "../actors/protocol/messages.ts";
import type { Logger } from "../log.ts";
import type { CertStore } from "../storage/cert-store.ts";
import type { Lease } from "../storage/lease.ts";
import { withDeadline, type ResolveAddresses } from "./resolve.ts";
import { dueDomains, RETRY_FAILED_SECS } from "./schedule.ts";
import { Semaphore } from "./semaphore.ts";
import type { CertCheckResult, CertDomain, ProbeOutcome } from "./types.ts";
import { buildResult, resultBatch } from "./verdict.ts";

export interface CertCheckSettings {
  enabled: boolean;
  default_interval_secs: number;
  tick_secs: number;
  connect_timeout_secs: number;
  max_concurrent: number;
}

export interface CertCheckerDeps {
  settings: CertCheckSettings;
  store: CertStore;
  /** Held by the one process per host that schedules. */
  lease: Lease;
  /** Runs one handshake (the actor's thread pool, or in-process in tests). */
  prober: { probe(task: Extract<CertCheckerTask, { type: "probe" }>): Promise<ProbeOutcome> };
  resolve: ResolveAddresses;
  intake: { submit(task: IngestTask, sender: string, bytes: number): Promise<unknown> };
  log: Logger;
  now: () => number;
  /** Told of every stored result (metrics). */
  onResult?: (result: CertCheckResult) => void;
}

/** The scheduler's lease outlives a few missed ticks before another process takes over. */
export function leaseTtlMs(tickSecs: number): number {
  return Math.max(10_000, tickSecs * 3_000);
}

/**
 * The main-thread side of the cert-checker: schedules checks (only while holding the
 * lease), resolves names, hands one handshake per address to the pool under one
 * process-wide bound of `max_concurrent` connections, turns the outcomes into a result
 * (pure `buildResult`), stores it and feeds its samples into the intake.
 */
export class CertChecker {
  private readonly connections: Semaphore;
  private readonly running = new Map<string, Promise<CertCheckResult>>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private closing = false;

  constructor(private readonly deps: CertCheckerDeps) {
    this.connections = new Semaphore(deps.settings.max_concurrent);
  }

  get store(): CertStore {
    return this.deps.store;
  }

  /** Connections open now, and checks under way. */
  stats(): { connections: number; waiting: number; checks: number } {
    return { connections: this.connections.inUse, waiting: this.connections.queued, checks: this.running.size };
  }

  /** Starts the scheduler when `[cert_check] enabled`; manual checks work either way. */
  start(): void {
    if (!this.deps.settings.enabled) return;
    const tick = () => void this.tick().catch((err) => this.deps.log.error({ err }, "certificate scheduling failed; will retry"));
    this.timer = setInterval(tick, this.deps.settings.tick_secs * 1000).unref();
    setImmediate(tick);
  }

  /** One scheduler tick: if this process holds the lease, starts every due check. Returns them. */
  async tick(): Promise<CertDomain[]> {
    if (this.ticking || this.closing) return [];
    this.ticking = true;
    try {
      const domains = this.deps.store.all();
      if (domains.length === 0) return [];
      if (!(await this.deps.lease.acquire(this.deps.now())) || this.closing) return [];
      const due = dueDomains(domains, (id) => this.deps.store.result(id), new Set(this.running.keys()), this.deps.now(), {
        defaultIntervalSecs: this.deps.settings.default_interval_secs, retryFailedSecs: RETRY_FAILED_SECS,
      });
      for (const domain of due) void this.check(domain).catch((err) => this.deps.log.error({ err, domain: domain.domain }, "certificate check failed"));
      return due;
    } finally {
      this.ticking = false;
    }
  }

  /** Checks one domain by id now (in this process, lease or not). */
  async checkById(id: string): Promise<CertCheckResult> {
    const domain = this.deps.store.get(id);
    if (!domain) throw new TsmonError("NOT_FOUND", `no monitored domain with id '${id}'`);
    return this.check(domain);
  }

  /** Checks every enabled domain now; resolves when all are done. */
  async checkAll(): Promise<CertCheckResult[]> {
    return Promise.all(this.deps.store.all().filter((d) => d.enabled).map((d) => this.check(d)));
  }

  /** Checks a domain; a check of it already under way is shared rather than repeated. */
  check(domain: CertDomain): Promise<CertCheckResult> {
    const current = this.running.get(domain.id);
    if (current) return current;
    const work = this.run(domain).finally(() => this.running.delete(domain.id));
    this.running.set(domain.id, work);
    return work;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    await this.deps.lease.release().catch(() => undefined);
  }

  /** Waits for the checks under way (after the pool has stopped, they end at once). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(domain: CertDomain): Promise<CertCheckResult> {
    const timeoutMs = this.deps.settings.connect_timeout_secs * 1000;
    const started = performance.now();
    let resolved: { ips: string[] } | { error: string };
    try {
      const ips = await withDeadline(this.deps.resolve(domain.domain), timeoutMs, `DNS: no answer for ${domain.domain} within ${timeoutMs} ms`);
      resolved = { ips: [...new Set(ips)] };
    } catch (err) {
      resolved = { error: (err as Error).message.startsWith("DNS") ? (err as Error).message : `DNS: ${(err as Error).message}` };
    }
    const probes = "ips" in resolved
      ? await Promise.all(resolved.ips.map((ip) => this.connections.run(() =>
        this.deps.prober.probe({ type: "probe", host: domain.domain, ip, port: domain.port, timeoutMs }))))
      : [];
    const result = buildResult(domain, resolved, probes, this.deps.now(), performance.now() - started);
    // A check cut short by shutdown says nothing about the certificate.
    if (this.closing) return result;
    if (await this.deps.store.putResult(result)) {
      this.deps.onResult?.(result);
      // Built here and small: it counts as its own sender, with no bytes held from the wire.
      await this.deps.intake.submit({ type: "report-batch", batch: resultBatch(result) }, "cert-checker", 0).catch((err: unknown) =>
        this.deps.log.warn({ err, domain: domain.domain }, "certificate samples were not stored; the next check sends them again"));
    }
    return result;
  }
}

/** Reads `[cert_check] ca_file`: one or more PEM certificates, each of which must parse. */
export function loadExtraCa(file: string | undefined): string | null {
  if (!file) return null;
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError("config", [`cert_check.ca_file: cannot read ${file}: ${(err as Error).message}`]);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError("config", [`cert_check.ca_file: ${file} holds no PEM certificate`]);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new ConfigError("config", [`cert_check.ca_file: ${file} holds a certificate that does not parse: ${(err as Error).message}`]);
    }
  }
  return blocks.join("\n");
}
