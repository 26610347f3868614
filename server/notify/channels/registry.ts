import { TsmonError } from "../../../common/errors.ts";
import { formatIssues } from "../../config/issues.ts";
import type { ChannelConfig } from "../../config/schema.ts";
import type { ChannelPlugin } from "../types.ts";
import { dingtalk } from "./dingtalk.ts";
import { discord } from "./discord.ts";
import { email } from "./email.ts";
import { slack } from "./slack.ts";
import { sms } from "./sms.ts";
import { telegram } from "./telegram.ts";
import { webhook } from "./webhook.ts";
import { weixin } from "./weixin.ts";

/** Every channel plugin, by the `type` that selects it: the one list of channel types (the
 *  config schema's and the OpenAPI document's enums are taken from it). */
export const CHANNEL_PLUGINS = {
  email, webhook, sms, dingtalk, weixin, slack, discord, telegram,
} as const satisfies Record<string, ChannelPlugin>;

export type ChannelType = keyof typeof CHANNEL_PLUGINS;
export const CHANNEL_TYPES = Object.keys(CHANNEL_PLUGINS) as [ChannelType, ...ChannelType[]];

/** The plugin of a type, as the interface every plugin shares (its config is what its own schema validated). */
export function channelPlugin(type: ChannelType): ChannelPlugin {
  return CHANNEL_PLUGINS[type];
}

/** The fields every channel has; the plugin validates the rest. */
const COMMON = ["type", "id", "name", "min_severity", "send_resolved"] as const;

/** Validates a channel table with its plugin's schema; errors name the field (prefixed by `where`). */
export function validateChannel(table: ChannelConfig, where: string): unknown {
  const plugin = channelPlugin(table.type);
  const rest: Record<string, unknown> = { ...table };
  for (const k of COMMON) delete rest[k];
  const parsed = plugin.schema.safeParse(rest);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues).map((p) => `${where}${where ? "." : ""}${p}`);
    throw new TsmonError("INVALID_ARGUMENT", problems.join("; "));
  }
  return parsed.data;
}

/** The table with its plugin's secret fields replaced, for API answers. */
export function redactSecrets(table: Record<string, unknown> & { type: ChannelConfig["type"] }): Record<string, unknown> {
  const out = { ...table };
  for (const k of channelPlugin(table.type).secrets) if (out[k] !== undefined) out[k] = "***";
  return out;
}
