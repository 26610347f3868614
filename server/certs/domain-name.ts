import { isIP } from "node:net";
import { domainToASCII } from "node:url";

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
// Characters that make a URL or host:port out of a name; the URL parser would silently cut there.
const NOT_A_NAME = /[\s/:@%?#[\]\\]/;

export type DomainCheck = { ok: true; ascii: string } | { ok: false; why: string };

/**
 * A host name as the cert-checker stores it: IDN to punycode (`münchen.de` →
 * `xn--mnchen-3ya.de`), lower case, no trailing dot. IP addresses are refused: SNI needs a name.
 */
export function normalizeDomain(raw: string): DomainCheck {
  const name = raw.trim().replace(/\.$/, "");
  if (name === "") return { ok: false, why: "must not be empty" };
  if (isIP(name) || isIP(name.replace(/^\[|\]$/g, ""))) return { ok: false, why: `"${clip(name)}" is an IP address; give a host name (TLS SNI needs one)` };
  if (NOT_A_NAME.test(name)) return { ok: false, why: `"${clip(name)}" is not a bare host name (no scheme, port, path or spaces; the port goes in 'port')` };
  const ascii = domainToASCII(name);
  if (ascii === "" || isIP(ascii)) return { ok: false, why: `"${clip(name)}" is not a valid domain name` };
  if (ascii.length > 253) return { ok: false, why: "longer than 253 characters (in punycode)" };
  const labels = ascii.split(".");
  for (const label of labels) {
    if (!LABEL.test(label)) return { ok: false, why: `"${clip(name)}": label "${clip(label)}" must be 1–63 letters, digits or hyphens, not starting or ending with a hyphen` };
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return { ok: false, why: `"${clip(name)}": the last label must not be all digits` };
  return { ok: true, ascii };
}

function clip(text: string): string {
  return text.length > 60 ? text.slice(0, 60) + "…" : text;
}
