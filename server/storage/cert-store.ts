import { randomUUID } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { TsmonError } from "../../common/errors.ts";
import type { CertCheckResult, CertDomain } from "../certs/types.ts";

/** A domain as the API creates it (name already normalized). */
export interface NewCertDomain {
  domain: string;
  port: number;
  enabled: boolean;
  check_interval_secs: number | null;
  note: string | null;
}

export type CertDomainPatch = Partial<Pick<CertDomain, "port" | "enabled" | "check_interval_secs" | "note">>;

export interface DomainQuery {
  enabled?: boolean;
  /** Substring of the domain name (punycode) or the note, case-insensitive. */
  search?: string;
  limit: number;
  offset: number;
}

const endpointKey = (domain: string, port: number) => `${domain}:${port}`;

/**
 * Monitored domains and the latest check of each, in the control environment
 * (`cert_domains`, `cert_results`, and `cert_endpoints`: domain:port → id, which keeps
 * endpoints unique). Writes are LMDB transactions, so concurrent adds from several
 * processes cannot both create one endpoint.
 */
export class CertStore {
  readonly domains: Database<CertDomain, string>;
  readonly results: Database<CertCheckResult, string>;
  private readonly endpoints: Database<string, string>;

  constructor(env: RootDatabase) {
    this.domains = env.openDB<CertDomain, string>({ name: "cert_domains" });
    this.results = env.openDB<CertCheckResult, string>({ name: "cert_results" });
    this.endpoints = env.openDB<string, string>({ name: "cert_endpoints" });
  }

  get(id: string): CertDomain | undefined {
    return this.domains.get(id);
  }

  /** Every domain, by name then port. */
  all(): CertDomain[] {
    return [...this.domains.getRange({}).map(({ value }) => value)].sort(byEndpoint);
  }

  query(q: DomainQuery): { total: number; domains: CertDomain[] } {
    const needle = q.search?.toLowerCase();
    const matching = this.all().filter((d) =>
      (q.enabled === undefined || d.enabled === q.enabled) &&
      (!needle || d.domain.includes(needle) || (d.note ?? "").toLowerCase().includes(needle)));
    return { total: matching.length, domains: matching.slice(q.offset, q.offset + q.limit) };
  }

  /** Adds every domain or none: ALREADY_EXISTS names the first that is taken (`where(i)`). */
  async add(items: NewCertDomain[], nowMs: number, where: (i: number) => string = () => "domain"): Promise<CertDomain[]> {
    const created = items.map((item): CertDomain => ({ ...item, id: randomUUID(), created_at: nowMs, updated_at: nowMs }));
    await this.domains.transaction(() => {
      const seen = new Set<string>();
      created.forEach((d, i) => {
        const key = endpointKey(d.domain, d.port);
        if (seen.has(key) || this.endpoints.get(key) !== undefined) {
          throw new TsmonError("ALREADY_EXISTS", `${where(i)}: ${key} is already monitored`);
        }
        seen.add(key);
      });
      for (const d of created) {
        this.domains.put(d.id, d);
        this.endpoints.put(endpointKey(d.domain, d.port), d.id);
      }
    });
    return created;
  }

  async update(id: string, patch: CertDomainPatch, nowMs: number): Promise<CertDomain> {
    let updated: CertDomain | undefined;
    await this.domains.transaction(() => {
      const prev = this.domains.get(id);
      if (!prev) throw notFound(id);
      const next: CertDomain = { ...prev, ...patch, updated_at: nowMs };
      if (next.port !== prev.port) {
        const key = endpointKey(next.domain, next.port);
        if (this.endpoints.get(key) !== undefined) throw new TsmonError("ALREADY_EXISTS", `port: ${key} is already monitored`);
        this.endpoints.remove(endpointKey(prev.domain, prev.port));
        this.endpoints.put(key, id);
        // The last result was for another endpoint.
        this.results.remove(id);
      }
      this.domains.put(id, next);
      updated = next;
    });
    return updated!;
  }

  /** Deletes a domain and its check result. */
  async remove(id: string): Promise<void> {
    await this.domains.transaction(() => {
      const prev = this.domains.get(id);
      if (!prev) throw notFound(id);
      this.domains.remove(id);
      this.endpoints.remove(endpointKey(prev.domain, prev.port));
      this.results.remove(id);
    });
  }

  /** Stores a check's result unless its domain was deleted or moved meanwhile; false then. */
  async putResult(result: CertCheckResult): Promise<boolean> {
    let stored = false;
    await this.domains.transaction(() => {
      const d = this.domains.get(result.domain_id);
      if (!d || d.port !== result.port) return;
      this.results.put(result.domain_id, result);
      stored = true;
    });
    return stored;
  }

  result(id: string): CertCheckResult | undefined {
    return this.results.get(id);
  }

  /** Latest results, by domain then port. */
  allResults(): CertCheckResult[] {
    return [...this.results.getRange({}).map(({ value }) => value)].sort(byEndpoint);
  }

  /** The results of one domain name (every port it is monitored on), by port. */
  resultsFor(domain: string): CertCheckResult[] {
    return this.allResults().filter((r) => r.domain === domain);
  }
}

function byEndpoint(a: { domain: string; port: number }, b: { domain: string; port: number }): number {
  return a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : a.port - b.port;
}

function notFound(id: string): TsmonError {
  return new TsmonError("NOT_FOUND", `no monitored domain with id '${id}'`);
}
