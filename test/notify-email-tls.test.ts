import test from "ava";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { ChannelConfig } from "../server/config/schema.ts";
import { channelPlugin, validateChannel } from "../server/notify/channels/registry.ts";
import { event } from "./helpers/alert-event.ts";
import { TestPki } from "./helpers/test-pki.ts";

/*
 * The email channel over TLS against a real SMTP server whose certificate comes from a CA
 * made at test time: implicit TLS (port-465 style) and STARTTLS (port-587 style), trusted
 * through smtp_ca_file; and refused when the CA is not given.
 */

const pki = new TestPki();
test.after.always(() => pki.cleanup());
const leaf = pki.leaf("localhost", { sans: ["DNS:localhost", "IP:127.0.0.1"] });

async function smtp(t: import("ava").ExecutionContext, secure: boolean) {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    secure, key: leaf.key, cert: leaf.cert + pki.intermediate.cert, authOptional: true, logger: false,
    onData(stream, _session, cb) { simpleParser(stream).then((m) => { mails.push(m); cb(); }, cb); },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

function send(port: number, security: "tls" | "starttls", caFile?: string) {
  const table = {
    type: "email", min_severity: "info", send_resolved: true, smtp_host: "localhost", smtp_port: port, smtp_security: security,
    from: "tsmon@example.test", recipients: ["ops@example.test"], ...(caFile ? { smtp_ca_file: caFile } : {}),
  } as unknown as ChannelConfig;
  const channel = channelPlugin("email").create(validateChannel(table, "email"), { now: Date.now, timeoutMs: 5000 });
  return channel.send({ id: "n-tls", status: "firing", rule_name: "high-cpu", severity: "critical", events: [event()] });
}

test("implicit TLS with the private CA from smtp_ca_file", async (t) => {
  const { port, mails } = await smtp(t, true);
  const res = await send(port, "tls", pki.caFile);
  t.true(res.ok, res.detail);
  t.is(mails[0]?.subject, "[FIRING] high-cpu (critical)");
});

test("STARTTLS with the private CA; without it the untrusted certificate is refused", async (t) => {
  const { port, mails } = await smtp(t, false);
  const res = await send(port, "starttls", pki.caFile);
  t.true(res.ok, res.detail);
  t.is(mails.length, 1);
  const untrusted = await send(port, "starttls");
  t.false(untrusted.ok);
  t.true(untrusted.retryable, "a TLS failure may be fixed on the server side: retried, not dropped");
  t.regex(untrusted.detail, /certificate/i);
  t.is(mails.length, 1, "nothing was sent over the untrusted connection");
});
