import { type Finding, sortFindings } from "../findings.ts";
import { ruleCatalog } from "../lint/rules.ts";

const level = { error: "error", warning: "warning", info: "note" } as const;

/** Findings as a SARIF 2.1.0 log (one run, every rule of the catalog in the driver). */
export function renderSarif(findings: readonly Finding[], options: { version: string }): string {
  const rules = ruleCatalog.map((r) => ({
    id: r.id,
    shortDescription: { text: r.description },
    defaultConfiguration: { level: level[r.severity] },
  }));
  const index = new Map(ruleCatalog.map((r, i) => [r.id, i]));
  const results = sortFindings(findings).map((f) => ({
    ruleId: f.rule,
    ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
    level: level[f.severity],
    message: { text: f.hint ? `${f.message}\nfix: ${f.hint}` : f.message },
    ...(f.file
      ? {
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file, uriBaseId: "%SRCROOT%" },
                ...(f.line
                  ? { region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}) } }
                  : {}),
              },
            },
          ],
        }
      : {}),
  }));
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "haos-tasks",
            version: options.version,
            informationUri: "https://github.com/haos-enigma/haos-enigma",
            rules,
          },
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
