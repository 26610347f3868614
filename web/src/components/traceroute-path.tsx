import { when } from "../lib/format.ts";

export interface Traceroute {
  agent_id: string; check: string; target: string; timestamp_ms: number;
  hops: { ttl: number; address?: string; rtt_ms: (number | null)[] }[];
}

/** A traced path as an ordered list of hops: address and each probe's time, `*` where none answered. */
export function TraceroutePath({ trace }: { trace: Traceroute }) {
  return (
    <figure class="trace">
      <figcaption>Path from <strong>{trace.agent_id}</strong> to <code>{trace.target}</code>, traced {when(new Date(trace.timestamp_ms).toISOString())}</figcaption>
      <ol class="hops">
        {trace.hops.map((h) => (
          <li value={h.ttl} data-ttl={h.ttl}>
            <span class="hop-address">{h.address ?? "*"}</span>
            <span class="muted">{h.rtt_ms.map((r) => (r === null ? "*" : `${r.toFixed(1)} ms`)).join("  ")}</span>
          </li>
        ))}
      </ol>
    </figure>
  );
}
