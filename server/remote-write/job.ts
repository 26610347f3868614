import { Counter, Gauge, type Registry } from "prom-client";
import type { ServerConfig } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { Lease } from "../storage/lease.ts";
import { remoteName } from "./config-schema.ts";
import { httpPoster } from "./post.ts";
import { RemoteWriteQueue } from "./queue.ts";
import { RemoteSender } from "./sender.ts";

/** The lease's life: its holder renews it every third of this; another process takes over within it after the holder dies. */
const LEASE_TTL_MS = 30_000;
const IDLE_POLL_MS = 1000;

export interface RemoteWriteDeps {
  control: ControlStore;
  registry: Registry;
  log: Logger;
  /** Test hooks. */
  pollMs?: number;
  minBackoffMs?: number;
}

export interface RemoteWriteJob {
  /** Whether this process holds the lease and sends. */
  sending(): boolean;
  close(): Promise<void>;
}

/**
 * Forwards the remote-write queue to every `[[remote_write]]` receiver. Every PM2 instance
 * starts this; the one that holds the `remote-write` lease sends, so each point leaves the
 * host once. The others only report the queue's size.
 */
export function startRemoteWrite(config: ServerConfig, deps: RemoteWriteDeps): RemoteWriteJob | undefined {
  if (!config.remote_write.length) return undefined;
  const log = deps.log.child({ component: "remote-write" });
  const queue = new RemoteWriteQueue(config.data_dir);
  const names = config.remote_write.map(remoteName);
  const metrics = remoteWriteMetrics(deps.registry, () => names.map((remote) => ({ remote, bytes: queue.backlog(remote) })));

  const lease = new Lease(deps.control.leases, "remote-write", LEASE_TTL_MS);
  let held = false;
  const renew = async () => {
    try {
      const now = await lease.acquire();
      if (now !== held) log.info({ holder: lease.holder }, now ? "remote_write: this process sends" : "remote_write: another process sends now");
      held = now;
    } catch (err) {
      held = false;
      log.error({ err }, "remote_write: renewing the lease failed; not sending until it succeeds");
    }
  };
  void renew();
  const timer = setInterval(() => void renew(), LEASE_TTL_MS / 3).unref();

  const posters = config.remote_write.map(httpPoster);
  const senders = config.remote_write.map((rw, i) => new RemoteSender({
    name: names[i]!, queue, post: posters[i]!.post, allNames: names, log,
    rules: { instanceLabel: rw.instance_label, agentIdLabel: rw.agent_id_label, metricPrefix: rw.metric_prefix, externalLabels: rw.external_labels },
    batchMaxSamples: rw.batch_max_samples, queueMaxBytes: rw.queue_max_bytes,
    backoff: { minMs: deps.minBackoffMs ?? 500, maxMs: rw.max_backoff_secs * 1000 },
    holdsLease: () => held, pollMs: deps.pollMs ?? IDLE_POLL_MS,
    events: {
      sent: (n) => metrics.sent.inc({ remote: names[i]! }, n),
      dropped: (n, reason) => metrics.dropped.inc({ remote: names[i]!, reason }, n),
      failed: (reason) => metrics.failures.inc({ remote: names[i]!, reason }),
    },
  }));
  // Receivers no longer configured hold nothing back.
  queue.trim(names).catch((err: unknown) => log.error({ err }, "remote_write: forgetting old receivers' cursors failed"));
  log.info({ receivers: names }, "remote_write: forwarding every stored point");

  return {
    sending: () => held,
    async close() {
      clearInterval(timer);
      await Promise.all(senders.map((s) => s.stop()));
      for (const poster of posters) poster.close();
      // Handing the lease on at once: another instance need not wait for it to expire.
      if (held) await lease.release().catch(() => undefined);
      await queue.close();
    },
  };
}

function remoteWriteMetrics(registry: Registry, backlog: () => { remote: string; bytes: number }[]) {
  const registers = [registry];
  new Gauge({
    name: "tsmon_remote_write_queue_bytes", help: "Bytes of stored reports a remote_write receiver has still to get (bounded by queue_max_bytes)",
    labelNames: ["remote"] as const, registers,
    collect() { for (const b of backlog()) this.set({ remote: b.remote }, b.bytes); },
  });
  return {
    sent: new Counter({ name: "tsmon_remote_write_sent_samples_total", help: "Samples a remote_write receiver accepted (from this process)", labelNames: ["remote"] as const, registers }),
    dropped: new Counter({
      name: "tsmon_remote_write_dropped_samples_total",
      help: "Samples never sent: queue_full (over queue_max_bytes, the oldest dropped) or rejected (a 4xx that no retry can pass)",
      labelNames: ["remote", "reason"] as const, registers,
    }),
    failures: new Counter({
      name: "tsmon_remote_write_failures_total", help: "Failed remote_write requests, by reason (network, timeout, server_error, rate_limited, rejected)",
      labelNames: ["remote", "reason"] as const, registers,
    }),
  };
}
