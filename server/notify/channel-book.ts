import { randomUUID } from "node:crypto";
import { TsmonError } from "../../common/errors.ts";
import type { ChannelConfig, SilenceWindowConfig } from "../config/schema.ts";
import type { NotifyStore, StoredChannel, StoredSilence } from "../storage/notify-store.ts";
import { validateChannel } from "./channels/registry.ts";

/**
 * Channels and silence windows: those of server.toml (read-only through the API; ids
 * `cfg-<type>-<n>` unless given) and those managed through the API (in the control store).
 */
export class ChannelBook {
  readonly configChannels: StoredChannel[];
  readonly configSilences: StoredSilence[];

  constructor(channels: readonly ChannelConfig[], silences: readonly SilenceWindowConfig[], private readonly store: NotifyStore) {
    this.configChannels = channels.map((c, i) => ({ ...structuredClone(c), id: c.id ?? `cfg-${c.type}-${i + 1}` }) as StoredChannel);
    this.configSilences = silences.map((w, i) => ({ ...structuredClone(w), id: `cfg-silence-${i + 1}` }));
  }

  channels(): (StoredChannel & { read_only: boolean })[] {
    return [
      ...this.configChannels.map((c) => ({ ...c, read_only: true })),
      ...[...this.store.channels.getRange({})].map(({ value }) => ({ ...value, read_only: false })),
    ];
  }

  channel(id: string): (StoredChannel & { read_only: boolean }) | undefined {
    return this.channels().find((c) => c.id === id);
  }

  async saveChannel(table: ChannelConfig, id?: string): Promise<StoredChannel> {
    if (id !== undefined) this.writable(this.channel(id), "channel", id);
    const channelId = id ?? table.id ?? randomUUID();
    if (id === undefined && this.channel(channelId)) throw new TsmonError("ALREADY_EXISTS", `a channel with id '${channelId}' exists`);
    validateChannel(table, "");
    const stored = { ...table, id: channelId } as StoredChannel;
    await this.store.channels.put(channelId, stored);
    await this.store.bumpVersion();
    return stored;
  }

  async removeChannel(id: string): Promise<void> {
    this.writable(this.channel(id), "channel", id);
    await this.store.channels.remove(id);
    await this.store.bumpVersion();
  }

  silences(): (StoredSilence & { read_only: boolean })[] {
    return [
      ...this.configSilences.map((s) => ({ ...s, read_only: true })),
      ...[...this.store.silences.getRange({})].map(({ value }) => ({ ...value, read_only: false })),
    ];
  }

  async saveSilence(window: SilenceWindowConfig & { note?: string }, id?: string): Promise<StoredSilence> {
    if (id !== undefined) this.writable(this.silences().find((s) => s.id === id), "silence window", id);
    const stored: StoredSilence = { ...window, id: id ?? randomUUID() };
    await this.store.silences.put(stored.id, stored);
    await this.store.bumpVersion();
    return stored;
  }

  async removeSilence(id: string): Promise<void> {
    this.writable(this.silences().find((s) => s.id === id), "silence window", id);
    await this.store.silences.remove(id);
    await this.store.bumpVersion();
  }

  private writable(item: { read_only: boolean } | undefined, what: string, id: string): void {
    if (!item) throw new TsmonError("NOT_FOUND", `no ${what} '${id}'`);
    if (item.read_only) throw new TsmonError("PERMISSION_DENIED", `${what} '${id}' comes from the config file and is read-only; edit server.toml`);
  }
}
