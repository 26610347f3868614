/** smol-toml's TomlError carries where the parser stopped; anything else has only a message. */
interface TomlErrorShape { message: string; line?: number; column?: number; codeblock?: string }

/**
 * A TOML syntax error as one problem line naming file, line and column (`FILE:LINE:COLUMN`,
 * the form editors jump to), followed by the parser's excerpt of the lines around it.
 */
export function tomlSyntaxProblem(err: unknown, file: string): string {
  const e = err as TomlErrorShape;
  const what = String(e.message ?? err).split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
  if (typeof e.line !== "number" || typeof e.column !== "number") return `TOML syntax: ${what} (in ${file})`;
  const excerpt = e.codeblock ? `\n${e.codeblock.replace(/\n+$/, "").split("\n").map((l) => `      ${l}`).join("\n")}` : "";
  return `TOML syntax at ${file}:${e.line}:${e.column} (line ${e.line}, column ${e.column}): ${what}${excerpt}`;
}
