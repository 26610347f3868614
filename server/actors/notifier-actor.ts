import type { NotifierReplies, NotifierRequest } from "./messages.ts";
import { ShardGroup, type ShardGroupOptions } from "./shard-group.ts";

/** The notifier actor: one supervised thread (delivery is once per host, by lease). */
export class NotifierActor extends ShardGroup<NotifierRequest, NotifierReplies> {
  constructor(options: Omit<ShardGroupOptions, "name" | "entry" | "shards">) {
    super({ ...options, shards: 1, name: "notifier", entry: new URL("./notifier.worker.ts", import.meta.url) });
  }

  private get thread() {
    return this.shards[0]!;
  }

  /** New events wait in the outbox: deliver now. */
  kick(): void {
    void this.thread.request({ type: "kick" }).catch(() => undefined);
  }

  async test(channelId: string): Promise<NotifierReplies["test"]["result"]> {
    return (await this.thread.request({ type: "test", channelId })).result;
  }

  async outcomes(): Promise<NotifierReplies["stats"]["outcomes"]> {
    return (await this.thread.request({ type: "stats" })).outcomes;
  }
}
