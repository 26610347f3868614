import type { Context } from "koa";
import { TsmonError } from "../../common/errors.ts";

/**
 * Reads a JSON request body, refusing what is too large (413) before buffering it,
 * what is not JSON by content type (415), and what does not parse (400).
 */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is("application/json")) {
    throw new TsmonError("UNSUPPORTED_MEDIA_TYPE", "send the body as JSON with 'content-type: application/json'");
  }
  const declared = Number(ctx.get("content-length") || 0);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      ctx.req.resume();
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new TsmonError("INVALID_ARGUMENT", `body: not valid JSON (${(err as Error).message})`);
  }
}

function tooLarge(limitBytes: number): TsmonError {
  return new TsmonError("PAYLOAD_TOO_LARGE", `body larger than ${limitBytes} bytes`);
}
