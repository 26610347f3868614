import { readFileSync } from "node:fs";
import tls from "node:tls";
import nodemailer from "nodemailer";
import { z } from "zod";
import { eventLine, plainText, title } from "../render.ts";
import type { ChannelPlugin, FailureReason, Notification } from "../types.ts";

const schema = z.strictObject({
  smtp_host: z.string().min(1),
  smtp_port: z.number().int().min(1).max(65535).default(587),
  /** starttls (port 587), tls (implicit, port 465) or none. */
  smtp_security: z.enum(["starttls", "tls", "none"]).default("starttls"),
  smtp_username: z.string().optional(),
  smtp_password: z.string().optional(),
  /** PEM file of a private CA that signed the SMTP server's certificate (besides the system roots). */
  smtp_ca_file: z.string().min(1).optional(),
  from: z.string().min(3),
  recipients: z.array(z.string().min(3)).min(1),
});

/** Email over SMTP with nodemailer: a text and an HTML body. */
export const email: ChannelPlugin<z.infer<typeof schema>> = {
  type: "email",
  schema,
  secrets: ["smtp_password"],
  create: (cfg, deps) => {
    const transport = nodemailer.createTransport({
      host: cfg.smtp_host,
      port: cfg.smtp_port,
      secure: cfg.smtp_security === "tls",
      requireTLS: cfg.smtp_security === "starttls",
      ignoreTLS: cfg.smtp_security === "none",
      auth: cfg.smtp_username ? { user: cfg.smtp_username, pass: cfg.smtp_password ?? "" } : undefined,
      tls: cfg.smtp_ca_file ? { ca: [...tls.rootCertificates, readFileSync(cfg.smtp_ca_file, "utf8")] } : undefined,
      connectionTimeout: deps.timeoutMs, greetingTimeout: deps.timeoutMs, socketTimeout: deps.timeoutMs,
    });
    return {
      async send(n) {
        try {
          const info = await transport.sendMail({
            from: cfg.from, to: cfg.recipients, subject: title(n), text: plainText(n), html: html(n),
            headers: { "X-Tsmon-Notification-Id": n.id },
          });
          return { ok: true, retryable: false, detail: info.response };
        } catch (err) {
          return { ok: false, ...classifySmtpError(err as SmtpError), detail: (err as Error).message };
        }
      },
    };
  },
};

function html(n: Notification): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
  const rows = n.events.map((e) => `<li>${esc(eventLine(e))}</li>`).join("");
  const detail = n.events.length === 1 ? `<p>${esc(n.events[0]!.message)}</p>` : "";
  return `<h2>${esc(title(n))}</h2><ul>${rows}</ul>${detail}`;
}

type SmtpError = Error & { code?: string; responseCode?: number };

/**
 * Login refused, or an envelope or message nodemailer cannot build, fails the same way next
 * time (config); 5xx SMTP replies are permanent (bad address, refused); 4xx replies are
 * transient by SMTP's own definition; the rest (connection, TLS handshake, timeout) may pass later.
 */
export function classifySmtpError(e: SmtpError): { retryable: boolean; reason: FailureReason; status?: number } {
  if (e.code === "EAUTH" || e.code === "ENOAUTH" || e.code === "EENVELOPE" || e.code === "EMESSAGE") return { retryable: false, reason: "config", status: e.responseCode };
  if (e.responseCode !== undefined && e.responseCode >= 500) return { retryable: false, reason: "rejected", status: e.responseCode };
  if (e.responseCode !== undefined) return { retryable: true, reason: "server_error", status: e.responseCode };
  return { retryable: true, reason: "network" };
}
