import type { SendResult } from "./types.ts";

/**
 * POSTs a JSON body and classifies the answer: 2xx delivered; 429 and 5xx and network
 * failures worth retrying; any other 4xx final (the request itself is wrong).
 * `accept` can refuse a 2xx whose body reports an error (DingTalk, WeChat: errcode ≠ 0).
 */
export async function postJson(
  url: string, body: unknown, options: { headers?: Record<string, string>; timeoutMs: number; accept?: (json: unknown) => string | null },
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
    return { ok: false, retryable: true, detail: `request failed: ${e.cause?.code ?? e.name}: ${e.message}` };
  }
  const text = (await res.text().catch(() => "")).slice(0, 500);
  if (res.ok) {
    if (options.accept) {
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      const problem = options.accept(json);
      if (problem) return { ok: false, retryable: false, status: res.status, detail: problem };
    }
    return { ok: true, retryable: false, status: res.status, detail: text || res.statusText };
  }
  const retryable = res.status === 429 || res.status >= 500;
  return { ok: false, retryable, status: res.status, detail: `HTTP ${res.status}: ${text || res.statusText}` };
}
