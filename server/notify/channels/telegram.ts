import { z } from "zod";
import { postJson } from "../http-post.ts";
import { plainText } from "../render.ts";
import type { ChannelPlugin } from "../types.ts";

const schema = z.strictObject({
  bot_token: z.string().min(1),
  chat_id: z.union([z.string().min(1), z.number().int()]),
  api_base_url: z.url().default("https://api.telegram.org"),
});

/** Telegram bot `sendMessage` (plain text, so nothing needs escaping). */
export const telegram: ChannelPlugin<z.infer<typeof schema>> = {
  type: "telegram",
  schema,
  secrets: ["bot_token"],
  create: (cfg, deps) => ({
    send: (n) => postJson(`${cfg.api_base_url.replace(/\/$/, "")}/bot${cfg.bot_token}/sendMessage`, {
      chat_id: cfg.chat_id, text: plainText(n).slice(0, 4000), disable_web_page_preview: true,
    }, {
      timeoutMs: deps.timeoutMs,
      // Telegram answers errors with a 4xx or 5xx status too; a 200 with ok false is a refusal of this message.
      accept: (json) => ((json as { ok?: boolean } | undefined)?.ok === false
        ? { detail: "telegram refused the message", retryable: false, reason: "rejected" } : null),
    }),
  }),
};
