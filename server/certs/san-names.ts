/*
 * Node writes a certificate's subjectAltName as `DNS:example.com, IP Address:10.0.0.1`; the
 * reference API lists plain names (`["example.com", "10.0.0.1"]`). Values containing a comma
 * or quote come quoted as JSON strings (Node ≥ 17.3.1), which is why the text is not one split.
 */
const TYPES = "DNS|IP Address|email|URI|DirName|Registered ID|othername";
const ENTRY = new RegExp(`\\s*(?:${TYPES}):("(?:[^"\\\\]|\\\\.)*"|[^,]*)\\s*(?:,|$)`, "y");
const PREFIX = new RegExp(`^(?:${TYPES}):`);

/** Plain names from Node's `subjectAltName` text. */
export function plainSanNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
  ENTRY.lastIndex = 0;
  while (ENTRY.lastIndex < subjectAltName.length) {
    const m = ENTRY.exec(subjectAltName);
    if (!m) break; // a type Node does not write; what was read so far stands
    const raw = m[1]!.trim();
    names.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return names;
}

/** Records stored before names were plain still hold `DNS:x`: shown plain all the same. */
export function withoutSanPrefix(names: readonly string[]): string[] {
  return names.map((n) => n.replace(PREFIX, ""));
}
