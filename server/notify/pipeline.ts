import type { AlertEvent } from "../alerts/types.ts";
import type { SilenceWindowConfig } from "../config/schema.ts";
import type { AlertSilence } from "./alert-silences.ts";
import type { Delivery, LogEntry, NotifyStore, StoredChannel } from "../storage/notify-store.ts";
import type { GroupingOptions } from "./stages/aggregate.ts";
import type { RetryPolicy } from "./stages/retry.ts";
import type { Channel, FailureReason } from "./types.ts";

export interface LiveChannel { table: StoredChannel; sender: Channel }

/** What every stage may use: the clock, the durable state, and this pass's settings. */
export interface StageContext {
  now(): number;
  store: NotifyStore;
  channels: ReadonlyMap<string, LiveChannel>;
  silences: readonly SilenceWindowConfig[];
  /** Silences of some alerts until a time (expired ones may be among them). */
  alertSilences: readonly AlertSilence[];
  /** Is this episode still firing? (A firing message held through a silence window may be moot.) */
  stillFiring(e: AlertEvent): boolean;
  policy: RetryPolicy;
  grouping: GroupingOptions;
  /** Counts one outcome for /metrics; `reason` is empty unless an attempt failed. */
  countOutcome(channelId: string, result: LogEntry["status"], reason: FailureReason | ""): void;
}

/** An event waiting in the outbox, with its key (removed once the event is routed). */
export interface OutboxEntry { key: [number, string]; event: AlertEvent }

/** What came of some deliveries of one message: one log entry, one count in the metrics. */
export interface Outcome {
  status: LogEntry["status"];
  deliveries: Delivery[];
  attempt: number;
  httpStatus: number | null;
  detail: string;
  /** Why an attempt failed (retry, failed, expired). */
  reason?: FailureReason;
}

/** What flows from stage to stage: new events, the deliveries they became or that are due, and what came of them. */
export interface Flow {
  events: OutboxEntry[];
  deliveries: Delivery[];
  outcomes: Outcome[];
}

/** Every stage has this one shape, as Alertmanager's `Stage.Exec(ctx, alerts) -> alerts`. */
export type Stage = (ctx: StageContext, flow: Flow) => Promise<Flow>;

/** Stages run one after the other, each on what the one before it passed on. */
export function sequence(stages: readonly Stage[]): Stage {
  return async (ctx, flow) => {
    let current = flow;
    for (const stage of stages) current = await stage(ctx, current);
    return current;
  };
}

export const emptyFlow = (fields: Partial<Flow> = {}): Flow => ({ events: [], deliveries: [], outcomes: [], ...fields });
