import test from "ava";
import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { ChannelConfig } from "../server/config/schema.ts";
import { channelPlugin, validateChannel } from "../server/notify/channels/registry.ts";
import type { Notification } from "../server/notify/types.ts";
import { HttpReceiver } from "./helpers/http-receiver.ts";
import { event } from "./helpers/alert-event.ts";

const NOW = Date.parse("2026-11-23T10:00:05Z");
const one: Notification = { id: "n-1", status: "firing", rule_name: "high-cpu", severity: "critical", events: [event({ severity: "critical" })] };
const two: Notification = { ...one, id: "n-2", events: [event({ agent_id: "web-1" }), event({ id: "e2", agent_id: "web-2", value: 97 })] };

function channel(table: Record<string, unknown>) {
  const cfg = validateChannel(table as ChannelConfig, "test");
  return channelPlugin(table.type as ChannelConfig["type"]).create(cfg, { now: () => NOW, timeoutMs: 5000 });
}

let rx: HttpReceiver;
test.before(async () => { rx = await HttpReceiver.start(); });
test.after.always(async () => { await rx?.stop(); });
const last = () => rx.requests.at(-1)!;

test.serial("webhook: tsmon's JSON with every alert, and the notification id as a header", async (t) => {
  const res = await channel({ type: "webhook", url: rx.url("/alerts"), headers: { "x-team": "ops" } }).send(two);
  t.true(res.ok);
  t.is(last().path, "/alerts");
  t.is(last().headers["x-team"], "ops");
  t.is(last().headers["x-tsmon-notification-id"], "n-2");
  t.like(last().body, { id: "n-2", status: "firing", rule: "high-cpu", severity: "critical" });
  t.deepEqual(last().body.alerts.map((a: any) => [a.agent_id, a.value]), [["web-1", 95.5], ["web-2", 97]]);
});

test.serial("webhook: a body_template is filled and sent", async (t) => {
  await channel({ type: "webhook", url: rx.url(), body_template: '{"text":"[{{severity}}] {{agent_id}}: {{message}}"}' }).send(one);
  t.regex(last().body.text, /^\[critical\] web-1: \[FIRING\] high-cpu \(critical\)\n- web-1: cpu\.usage = 95\.50/);
});

test.serial("sms: the generic gateway gets every number, the text and the key", async (t) => {
  await channel({ type: "sms", gateway_url: rx.url("/sms"), api_key: "k-123", phone_numbers: ["+8613800138000", "+4915112345678"] }).send(one);
  t.is(last().headers.authorization, "Bearer k-123");
  t.deepEqual(last().body.phone_numbers, ["+8613800138000", "+4915112345678"]);
  t.regex(last().body.message, /high-cpu/);
});

test.serial("dingtalk: markdown, signed with timestamp + HMAC-SHA256 of the secret", async (t) => {
  await channel({ type: "dingtalk", webhook_url: rx.url("/robot/send?access_token=abc"), secret: "SEC123" }).send(two);
  const url = new URL(last().path, "http://x");
  t.is(url.searchParams.get("access_token"), "abc");
  t.is(url.searchParams.get("timestamp"), String(NOW));
  const expected = createHmac("sha256", "SEC123").update(`${NOW}\nSEC123`).digest("base64");
  t.is(url.searchParams.get("sign"), expected, "DingTalk's documented signature");
  t.is(last().body.msgtype, "markdown");
  t.is(last().body.markdown.title, "[FIRING] high-cpu (critical)");
  t.regex(last().body.markdown.text, /\*\*web-1\*\*[\s\S]*\*\*web-2\*\*/);
});

test.serial("dingtalk and weixin: a robot's errcode ≠ 0 is a failure, not retried", async (t) => {
  rx.replies.push({ status: 200, body: { errcode: 310000, errmsg: "sign not match" } });
  const res = await channel({ type: "dingtalk", webhook_url: rx.url("/robot") }).send(one);
  t.like(res, { ok: false, retryable: false });
  t.regex(res.detail, /errcode 310000 sign not match/);
  await channel({ type: "weixin", webhook_url: rx.url("/cgi-bin/webhook/send?key=K") }).send(one);
  t.is(last().body.msgtype, "markdown");
  t.regex(last().body.markdown.content, /^### \[FIRING\] high-cpu/);
});

test.serial("slack blocks, discord embed and telegram sendMessage", async (t) => {
  await channel({ type: "slack", webhook_url: rx.url("/services/T/B/X") }).send(two);
  t.is(last().body.text, "[FIRING] high-cpu (critical)");
  t.deepEqual(last().body.blocks.map((b: any) => b.type), ["header", "section"]);
  t.regex(last().body.blocks[1].text.text, /• web-1[\s\S]*• web-2/);

  await channel({ type: "discord", webhook_url: rx.url("/api/webhooks/1/x") }).send({ ...one, status: "resolved", events: [event({ status: "resolved", resolved_at: NOW })] });
  const embed = last().body.embeds[0];
  t.is(embed.title, "[RESOLVED] high-cpu");
  t.is(embed.color, 0x2eb67d, "green when resolved");

  await channel({ type: "telegram", bot_token: "123:ABC", chat_id: -1001, api_base_url: `http://127.0.0.1:${rx.port}` }).send(one);
  t.is(last().path, "/bot123:ABC/sendMessage");
  t.is(last().body.chat_id, -1001);
  t.regex(last().body.text, /^\[FIRING\] high-cpu/);
});

test.serial("answers are classified: 5xx and 429 retryable, other 4xx final, a dead receiver retryable", async (t) => {
  const hook = channel({ type: "webhook", url: rx.url() });
  for (const [status, retryable] of [[500, true], [429, true], [404, false], [400, false]] as const) {
    rx.replies.push({ status, body: { error: "x" } });
    const res = await hook.send(one);
    t.like(res, { ok: false, retryable, status }, String(status));
  }
  const dead = channel({ type: "webhook", url: "http://127.0.0.1:9/nowhere" });
  t.like(await dead.send(one), { ok: false, retryable: true });
});

test("plugins validate their own fields and name them", (t) => {
  t.throws(() => validateChannel({ type: "webhook", url: "not a url", min_severity: "info", send_resolved: true } as ChannelConfig, "notification.channels.0"),
    { message: /^notification\.channels\.0\.url: / });
  const email = t.throws(() => validateChannel({ type: "email", min_severity: "info", send_resolved: true, smtp_host: "h", from: "a@b.c", recipients: [], bogus: 1 } as unknown as ChannelConfig, "c"));
  t.regex(email!.message, /c\.recipients: /);
  t.regex(email!.message, /c\.\(top level\): Unrecognized key: "bogus"/);
  t.throws(() => validateChannel({ type: "sms", min_severity: "info", send_resolved: true, gateway_url: "http://x", api_key: "k", phone_numbers: ["call me"] } as ChannelConfig, "c"),
    { message: /c\.phone_numbers\.0: expected a phone number/ });
});

test("email: a real SMTP server receives the text and HTML message", async (t) => {
  const mails: ParsedMail[] = [];
  const logins: string[] = [];
  const smtp = new SMTPServer({
    secure: false, disabledCommands: ["STARTTLS"], authOptional: true, allowInsecureAuth: true, logger: false,
    onAuth(auth, _session, cb) { logins.push(`${auth.username}:${auth.password}`); cb(null, { user: auth.username }); },
    onData(stream, _session, cb) { simpleParser(stream).then((m) => { mails.push(m); cb(); }, cb); },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  const port = (smtp.server.address() as AddressInfo).port;
  const res = await channel({
    type: "email", smtp_host: "127.0.0.1", smtp_port: port, smtp_security: "none", smtp_username: "alerts", smtp_password: "pw",
    from: "tsmon@example.test", recipients: ["ops@example.test", "oncall@example.test"],
  }).send(two);
  t.true(res.ok, res.detail);
  t.deepEqual(logins, ["alerts:pw"]);
  const mail = mails[0]!;
  t.is(mail.subject, "[FIRING] high-cpu (critical)");
  t.is(mail.from?.text, "tsmon@example.test");
  t.deepEqual((Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((a) => a!.value.map((v) => v.address)), ["ops@example.test", "oncall@example.test"]);
  t.regex(mail.text!, /- web-1: cpu\.usage = 95\.50[\s\S]*- web-2: cpu\.usage = 97/);
  t.regex(String(mail.html), /<h2>\[FIRING\] high-cpu \(critical\)<\/h2><ul><li>web-1/);
  t.is(mail.headers.get("x-tsmon-notification-id"), "n-2");
});
