import type { IngestPool } from "../actors/ingest/ingest-pool.ts";
import type { Intake } from "../actors/ingest/intake.ts";
import type { AlertEngine } from "../alerts/engine.ts";
import { LiveHub } from "../live/hub.ts";
import { LiveRelay } from "../live/relay.ts";
import type { Logger } from "../log.ts";
import type { ServerMetrics } from "../observability/metrics.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { VERSION } from "../version.ts";

/** A live client with more than this unsent is skipped until it catches up. */
const LIVE_CLIENT_BUFFER_BYTES = 1024 * 1024;

export interface Live {
  hub: LiveHub;
  relay: LiveRelay;
}

/** The live feed's hub and its relay to the other processes (PM2 cluster) on this data dir. */
export async function startLive(control: ControlStore, dataDir: string, log: Logger): Promise<Live> {
  const hub = new LiveHub(LIVE_CLIENT_BUFFER_BYTES, VERSION);
  const relay = new LiveRelay(control.livePeers, dataDir, hub, log.child({ component: "live" }));
  await relay.start();
  return { hub, relay };
}

/**
 * Accepted reports and alert events go to the live clients here and at the peers. Ingest
 * threads send this thread a report's samples only while someone watches, here or at a peer.
 */
export function feedLive({ hub, relay }: Live, ingest: IngestPool, intake: Intake, alerts: AlertEngine, metrics: ServerMetrics, log: Logger): void {
  intake.onAccepted((agentId, samples) => {
    hub.publish(agentId, samples);
    relay.forward(agentId, samples);
  });
  alerts.onEvent((event) => {
    metrics.alertEvents.inc({ rule: event.rule_name, state: event.status });
    log.info({ alert: event }, event.message);
    hub.publishAlert(event);
    relay.forwardAlert(event);
  });
  const announceSamples = () => ingest.announceSamples(hub.hasClients || relay.forwarding);
  hub.onOccupancy = (hasClients) => {
    relay.setHasClients(hasClients);
    announceSamples();
  };
  relay.onForwarding = announceSamples;
  announceSamples();
}
