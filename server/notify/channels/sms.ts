import { z } from "zod";
import { postJson } from "../http-post.ts";
import { plainText } from "../render.ts";
import type { ChannelPlugin } from "../types.ts";

const schema = z.strictObject({
  gateway_url: z.url(),
  api_key: z.string().min(1),
  phone_numbers: z.array(z.string().regex(/^\+?[0-9 ()-]{5,20}$/, "expected a phone number")).min(1),
});

/** Generic SMS gateway, as the reference: one JSON POST with every number and the text. */
export const sms: ChannelPlugin<z.infer<typeof schema>> = {
  type: "sms",
  schema,
  secrets: ["api_key"],
  create: (cfg, deps) => ({
    send: (n) => postJson(cfg.gateway_url, { phone_numbers: cfg.phone_numbers, message: plainText(n).slice(0, 600) }, {
      headers: { authorization: `Bearer ${cfg.api_key}` }, timeoutMs: deps.timeoutMs,
    }),
  }),
};
