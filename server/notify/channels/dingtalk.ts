import { createHmac } from "node:crypto";
import { z } from "zod";
import { postJson, type Refusal } from "../http-post.ts";
import { markdown, title } from "../render.ts";
import type { ChannelPlugin } from "../types.ts";

const schema = z.strictObject({
  webhook_url: z.url(),
  /** Robot signing secret (SEC...): adds timestamp and HMAC-SHA256 sign to the URL. */
  secret: z.string().min(1).optional(),
});

/** DingTalk robot: a markdown message; signed when a secret is set. */
export const dingtalk: ChannelPlugin<z.infer<typeof schema>> = {
  type: "dingtalk",
  schema,
  secrets: ["webhook_url", "secret"],
  create: (cfg, deps) => ({
    send: (n) => postJson(signedUrl(cfg.webhook_url, cfg.secret, deps.now()), {
      msgtype: "markdown", markdown: { title: title(n), text: markdown(n) },
    }, { timeoutMs: deps.timeoutMs, accept: robotAccepts }),
  }),
};

/** DingTalk's signature: base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)), URL-encoded. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac("sha256", secret).update(`${timestampMs}\n${secret}`).digest("base64");
}

function signedUrl(url: string, secret: string | undefined, now: number): string {
  if (!secret) return url;
  const u = new URL(url);
  u.searchParams.set("timestamp", String(now));
  u.searchParams.set("sign", dingtalkSign(secret, now));
  return u.toString();
}

/** Robot errcodes that mean "later": system busy (-1), DingTalk's 130101 (sending too fast), WeChat's 45009 (frequency limit). */
const ROBOT_THROTTLED = new Set([-1, 130101, 45009]);

/** DingTalk and WeChat robots answer 200 with `{ errcode, errmsg }`; errcode 0 is success. */
export function robotAccepts(json: unknown): Refusal | null {
  const body = json as { errcode?: number; errmsg?: string } | undefined;
  if (body?.errcode === undefined || body.errcode === 0) return null;
  const detail = `robot refused: errcode ${body.errcode} ${body.errmsg ?? ""}`.trim();
  return ROBOT_THROTTLED.has(body.errcode) ? { detail, retryable: true, reason: "rate_limited" } : { detail, retryable: false, reason: "rejected" };
}
