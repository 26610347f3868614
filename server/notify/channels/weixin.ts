import { z } from "zod";
import { postJson } from "../http-post.ts";
import { markdown } from "../render.ts";
import type { ChannelPlugin } from "../types.ts";
import { robotAccepts } from "./dingtalk.ts";

const schema = z.strictObject({ webhook_url: z.url() });

/** WeChat Work group robot: a markdown message. */
export const weixin: ChannelPlugin<z.infer<typeof schema>> = {
  type: "weixin",
  schema,
  secrets: ["webhook_url"],
  create: (cfg, deps) => ({
    send: (n) => postJson(cfg.webhook_url, { msgtype: "markdown", markdown: { content: markdown(n) } }, {
      timeoutMs: deps.timeoutMs, accept: robotAccepts,
    }),
  }),
};
