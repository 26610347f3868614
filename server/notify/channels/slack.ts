import { z } from "zod";
import { postJson } from "../http-post.ts";
import { eventLine, title } from "../render.ts";
import type { ChannelPlugin } from "../types.ts";

const schema = z.strictObject({ webhook_url: z.url() });

/** Slack incoming webhook: a header block and one section listing every agent. */
export const slack: ChannelPlugin<z.infer<typeof schema>> = {
  type: "slack",
  schema,
  secrets: ["webhook_url"],
  create: (cfg, deps) => ({
    send: (n) => {
      const lines = n.test ? "This channel is configured correctly." : n.events.map((e) => `• ${eventLine(e)}`).join("\n");
      return postJson(cfg.webhook_url, {
        text: title(n),
        blocks: [
          { type: "header", text: { type: "plain_text", text: title(n).slice(0, 150) } },
          { type: "section", text: { type: "mrkdwn", text: lines.slice(0, 2900) } },
        ],
      }, { timeoutMs: deps.timeoutMs });
    },
  }),
};
