/*
 * `expect` and `expect_body` take either a plain substring or a /regex/flags literal, the
 * way blackbox_exporter's users write them; parsed once when the config is validated.
 */

export type TextMatcher = (text: string) => boolean;

const REGEX_LITERAL = /^\/(.+)\/([dgimsuy]*)$/s;

/** A matcher for `pattern`, or the reason it is not a valid /regex/. */
export function parseMatcher(pattern: string): { matcher: TextMatcher } | { problem: string } {
  const m = REGEX_LITERAL.exec(pattern);
  if (!m) return { matcher: (text) => text.includes(pattern) };
  try {
    // No "g" or "y": a stateful lastIndex would make a second probe start mid-text.
    const re = new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ""));
    return { matcher: (text) => re.test(text) };
  } catch (err) {
    return { problem: `not a valid regular expression: ${(err as Error).message} (write a plain substring, or /pattern/flags)` };
  }
}

/** Shown in a down reason: the pattern, shortened so a long body match does not flood the log. */
export function describePattern(pattern: string): string {
  return JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 77)}...` : pattern);
}

/** For a pattern the config schema has already accepted. */
export function compileMatcher(pattern: string): TextMatcher {
  const parsed = parseMatcher(pattern);
  if ("problem" in parsed) throw new Error(`${describePattern(pattern)}: ${parsed.problem}`);
  return parsed.matcher;
}
