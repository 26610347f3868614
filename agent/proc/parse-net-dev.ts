/** Cumulative counters of one network interface. */
export interface NetCounters {
  bytesRecv: number;
  packetsRecv: number;
  bytesSent: number;
  packetsSent: number;
}

/**
 * Parses /proc/net/dev: two header lines, then `name: rx(8 columns) tx(8 columns)`.
 * The name ends at the first colon (Linux forbids colons in interface names), and long
 * names may touch the first number (`veth1234567:12345 ...`).
 */
export function parseNetDev(text: string): Map<string, NetCounters> {
  const interfaces = new Map<string, NetCounters>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (!name || fields.length < 10) continue;
    const n = fields.map(Number);
    if (n.slice(0, 10).some((x) => !Number.isFinite(x))) continue;
    interfaces.set(name, { bytesRecv: n[0]!, packetsRecv: n[1]!, bytesSent: n[8]!, packetsSent: n[9]! });
  }
  return interfaces;
}
