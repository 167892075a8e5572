import { isScalar, Scalar, visit } from "yaml";
import type { Finding } from "../findings.ts";
import { positionAt, type SourceFile } from "../manifests/yaml-source.ts";
import { finding } from "./rules.ts";

// YAML 1.1 booleans that YAML 1.2 (Kubernetes, Go yaml.v3, this parser) reads as strings.
const yaml11Booleans = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const truthy = /^(y|yes|on)$/i;

/**
 * Unquoted YAML 1.1 booleans used as values: one tool reads `yes` as true, Kubernetes as the
 * string "yes". Keys are left alone (`on:` in GitHub workflows is a key, and valid).
 */
export function lintTruthy(source: SourceFile): Finding[] {
  const findings: Finding[] = [];
  const report = (raw: string, pos: { line: number; column: number }) => {
    const meant = truthy.test(raw) ? "true" : "false";
    findings.push(
      finding(
        "yaml/truthy",
        { file: source.file, ...pos },
        `'${raw}' is the string "${raw}" for kustomize, Flux and Kubernetes (YAML 1.2) but a boolean for YAML 1.1 tools`,
        `write ${meant} for a boolean, or "${raw}" (quoted) for the string`,
      ),
    );
  };
  // The fast path found them while it read the file.
  if (source.simple) {
    for (const { raw, offset } of source.simple.yaml11Booleans) report(raw, positionAt(source, offset));
    return findings;
  }
  for (const doc of source.documents) {
    if (doc.ast.errors.length > 0) continue;
    visit(doc.ast, {
      Scalar(key, node) {
        if (key === "key" || !isScalar(node) || node.type !== Scalar.PLAIN) return;
        const raw = node.source ?? String(node.value);
        if (typeof node.value !== "string" || !yaml11Booleans.test(raw)) return;
        const offset = node.range?.[0];
        report(raw, offset === undefined ? doc.start : positionAt(source, offset));
      },
    });
  }
  return findings;
}
