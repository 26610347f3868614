import type { NotifierReplies, NotifierRequest } from "../protocol/messages.ts";
import { ShardGroup, type ShardGroupOptions } from "../runtime/shard-group.ts";

/** The notifier actor: one supervised thread (delivery is once per host, by lease). */
export class NotifierActor extends ShardGroup<NotifierRequest, NotifierReplies> {
  constructor(options: Omit<ShardGroupOptions, "name" | "entry" | "shards">) {
    super({ ...options, shards: 1, name: "notifier", entry: new URL("./notifier.worker.ts", import.meta.url) });
  }

  private get thread() {
    return this.shards[0]!;
  }

  private kicking = false;
  private kickAgain = false;

  /** New events wait in the outbox: deliver now. A burst of events costs one message in
   *  flight and one after it (a pass reads the whole outbox), not a message per event. */
  kick(): void {
    if (this.kicking) {
      this.kickAgain = true;
      return;
    }
    this.kicking = true;
    void this.thread.request({ type: "kick" }).catch(() => undefined).finally(() => {
      this.kicking = false;
      if (!this.kickAgain) return;
      this.kickAgain = false;
      this.kick();
    });
  }

  async test(channelId: string): Promise<NotifierReplies["test"]["result"]> {
    return (await this.thread.request({ type: "test", channelId })).result;
  }

  async outcomes(): Promise<NotifierReplies["stats"]["outcomes"]> {
    return (await this.thread.request({ type: "stats" })).outcomes;
  }
}
