import { parentPort, workerData } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest, stopThread } from "../runtime/thread-exit.ts";
import { logFromWorker } from "../runtime/worker-log.ts";
import type { SilenceWindowConfig } from "../../config/schema.ts";
import { Notifier } from "./notifier.ts";
import { DEFAULT_RETRY } from "../../notify/stages/retry.ts";
import { ControlStore } from "../../storage/control-store.ts";
import { Lease } from "../../storage/lease.ts";
import type { StoredChannel } from "../../storage/notify-store.ts";
import { nodeEndpoint } from "../runtime/comlink-node.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type NotifierReplies, type NotifierRequest, type NotifierWorkerData } from "../protocol/messages.ts";
import { answerCollections } from "../runtime/collect-garbage.ts";

// The shell of the notifier actor: the control store, the delivery lease, a tick, comlink.
const settings = workerData as NotifierWorkerData;
answerCollections();
const control = new ControlStore(settings.dataDir);
const lease = new Lease(control.leases, "notifier", Math.max(10_000, settings.tickMs * 20));
const outcomes = new Map<string, number>();
const notifier = new Notifier({
  store: control.notify,
  alerts: control.alerts,
  now: Date.now,
  isLeader: () => lease.acquire(),
  policy: { ...DEFAULT_RETRY, quickBaseMs: settings.quickBaseMs, slowBaseMs: settings.slowBaseMs, maxAgeMs: settings.maxDeliveryAgeMs },
  grouping: { waitMs: settings.groupWaitMs, windowMs: settings.aggregationWindowMs },
  timeoutMs: 10_000,
  onError: (err) => logFromWorker(50, "notification message failed; will retry", { err }),
  onOutcome: (channel, result, reason) => {
    const key = [channel, result, reason].join("\u0000");
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  },
});

let version = -1;
function reload(): void {
  const current = control.notify.version();
  if (current === version) return;
  version = current;
  const apiChannels = [...control.notify.channels.getRange({})].map(({ value }) => value);
  notifier.setChannels([...(settings.configChannels as StoredChannel[]), ...apiChannels]);
  const apiSilences = [...control.notify.silences.getRange({})].map(({ value }) => value);
  const alertSilences = [...control.notify.alertSilences.getRange({})].map(({ value }) => value);
  notifier.setSilences([...(settings.configSilences as SilenceWindowConfig[]), ...apiSilences], alertSilences);
}

/** Starts a pass of the pipeline; resolves once its sends are started (see Notifier.pass). */
async function pass(): Promise<{ sent: Promise<void> }> {
  // This thread's LMDB snapshot is renewed only on a later timer tick: read the channels,
  // silences and deliveries as they are now (a silence added a moment ago must hold).
  control.env.resetReadTxn();
  reload();
  return notifier.pass();
}

setInterval(() => void pass().then((p) => p.sent).catch((err) => console.error("notifier tick failed", err)), settings.tickMs);

async function handle(msg: NotifierRequest): Promise<NotifierReplies[NotifierRequest["type"]]> {
  switch (msg.type) {
    case "kick":
      // Answered once the sends are under way, not done: the next kick must not wait for a slow channel.
      await pass();
      return { type: "ticked" };
    case "test":
      control.env.resetReadTxn();
      reload();
      return { type: "tested", result: await notifier.test(msg.channelId) };
    case "stats": {
      const list = [...outcomes].map(([k, count]) => {
        const [channel, result, reason] = k.split("\u0000") as [string, string, string];
        return { channel, result, reason, count };
      });
      outcomes.clear();
      return { type: "stats", outcomes: list };
    }
    default:
      return assertNever(msg);
  }
}

expose({ handle, crashForTest, stopThread }, nodeEndpoint(parentPort!));
