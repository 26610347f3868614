import { promises as dns } from "node:dns";

/** Every address (A and AAAA) of a host name; throws when there is none. Injectable for tests. */
export type ResolveAddresses = (host: string) => Promise<string[]>;

const NO_SUCH_NAME = new Set(["ENOTFOUND", "ENODATA", "NOTFOUND", "NODATA"]);

/**
 * A and AAAA from DNS (c-ares, so a slow server ties up no thread). When DNS gives no
 * address, the system resolver is asked too (it reads /etc/hosts).
 */
export function systemResolver(timeoutMs: number): ResolveAddresses {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const ips = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
    if (ips.length) return ips;
    const codes = [v4, v6].map((r) => (r.status === "rejected" ? (r.reason as NodeJS.ErrnoException).code ?? "" : "NODATA"));
    const found = await dns.lookup(host, { all: true, verbatim: true }).catch(() => []);
    if (found.length) return found.map((a) => a.address);
    if (codes.every((c) => NO_SUCH_NAME.has(c))) throw new Error(`no A or AAAA record for ${host} (${codes.join(", ")})`);
    throw new Error(`DNS lookup of ${host} failed (${codes.join(", ")})`);
  };
}

/** Runs `work`, giving up with `message` after `ms` (the work itself is abandoned, not stopped). */
export function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
