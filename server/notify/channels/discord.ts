import { z } from "zod";
import { postJson } from "../http-post.ts";
import { eventLine, title } from "../render.ts";
import type { ChannelPlugin } from "../types.ts";

const schema = z.strictObject({ webhook_url: z.url() });

const COLORS = { resolved: 0x2eb67d, info: 0x3aa3e3, warning: 0xecb22e, critical: 0xe01e5a } as const;

/** Discord webhook: one embed, coloured by severity (green when resolved). */
export const discord: ChannelPlugin<z.infer<typeof schema>> = {
  type: "discord",
  schema,
  secrets: ["webhook_url"],
  create: (cfg, deps) => ({
    send: (n) => postJson(cfg.webhook_url, {
      embeds: [{
        title: title(n).slice(0, 256),
        description: (n.test ? "This channel is configured correctly." : n.events.map(eventLine).join("\n")).slice(0, 4000),
        color: n.status === "resolved" ? COLORS.resolved : COLORS[n.severity],
        timestamp: new Date().toISOString(),
      }],
    }, { timeoutMs: deps.timeoutMs }),
  }),
};
