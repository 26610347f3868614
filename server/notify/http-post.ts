import type { FailureReason, SendResult } from "./types.ts";

/** A 2xx whose body reports a failure (DingTalk, WeChat: errcode ≠ 0; Telegram: ok false). */
export interface Refusal { detail: string; retryable: boolean; reason: FailureReason }

/**
 * POSTs a JSON body and classifies the answer: 2xx delivered; 408, 429, 5xx and network
 * failures worth retrying; any other 4xx final (the request itself is wrong).
 * `accept` can refuse a 2xx whose body reports an error, and say whether it may pass later.
 */
export async function postJson(
  url: string, body: unknown, options: { headers?: Record<string, string>; timeoutMs: number; accept?: (json: unknown) => Refusal | null },
): Promise<SendResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, retryable: true, reason: "network", detail: `request failed: ${e.cause?.code ?? e.name}: ${e.message}` };
  }
  const text = (await res.text().catch(() => "")).slice(0, 500);
  if (res.ok) {
    if (options.accept) {
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      const refusal = options.accept(json);
      if (refusal) return { ok: false, retryable: refusal.retryable, reason: refusal.reason, status: res.status, detail: refusal.detail };
    }
    return { ok: true, retryable: false, status: res.status, detail: text || res.statusText };
  }
  return { ...classifyStatus(res.status), ok: false, status: res.status, detail: `HTTP ${res.status}: ${text || res.statusText}` };
}

function classifyStatus(status: number): { retryable: boolean; reason: FailureReason } {
  if (status === 429) return { retryable: true, reason: "rate_limited" };
  // 408: the receiver timed out reading us; the same request may pass next time.
  if (status === 408) return { retryable: true, reason: "network" };
  if (status >= 500) return { retryable: true, reason: "server_error" };
  return { retryable: false, reason: "rejected" };
}
