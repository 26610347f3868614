/**
 * Glob patterns as in `agent_pattern`: `*` any run of characters, `?` exactly one,
 * everything else literal. Compiled once per pattern.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = "^";
  for (const ch of pattern) {
    if (ch === "*") source += ".*";
    else if (ch === "?") source += ".";
    else source += ch.replace(/[\\^$.+()|{}[\]]/g, "\\$&");
  }
  return new RegExp(source + "$", "s");
}

/** A matcher for any of several globs; no patterns matches nothing. */
export function anyGlob(patterns: readonly string[]): (text: string) => boolean {
  if (patterns.includes("*")) return () => true;
  const res = patterns.map(globToRegExp);
  return (text) => res.some((re) => re.test(text));
}
