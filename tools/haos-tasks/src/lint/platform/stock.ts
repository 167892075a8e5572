/**
 * Names of objects in a Helm template file without rendering it: documents are split on `---`,
 * template-only lines are dropped, and each document's `kind` and `metadata.name` are read by
 * indentation. Names that are themselves templated (`{{ … }}`) are skipped.
 */
export function objectNamesInTemplate(text: string, kind: string): string[] {
  const names: string[] = [];
  for (const doc of text.split(/^---[^\n]*$/m)) {
    const lines = doc.split("\n").filter((l) => !/^\s*\{\{.*\}\}\s*$/.test(l));
    const kindLine = lines.find((l) => /^kind:\s*/.test(l));
    if (
      kindLine
        ?.replace(/^kind:\s*/, "")
        .replace(/["']/g, "")
        .trim() !== kind
    )
      continue;
    const meta = lines.findIndex((l) => /^metadata:\s*$/.test(l));
    if (meta < 0) continue;
    for (const line of lines.slice(meta + 1)) {
      if (/^\S/.test(line)) break;
      const match = /^ {2}name:\s*["']?([^"'\s#]+)["']?\s*(#.*)?$/.exec(line);
      if (match?.[1]) {
        if (!match[1].includes("{{")) names.push(match[1]);
        break;
      }
    }
  }
  return names;
}
