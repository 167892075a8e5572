import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import { isRecord } from "../../src/schemas/convert/types.ts";
import { toolPath } from "../../src/tools/paths.ts";

/** One rule's outcome as Kyverno's policy report states it. */
export interface KyvernoRuleResult {
  policy: string;
  rule: string;
  /**
   * `pass`: the rule matched and its patch changed the resource (or its target); `skip`: its
   * patch changed nothing (Kyverno: "no patches applied"); `fail`, `error`, `warn`.
   */
  result: string;
  message: string;
}

export interface KyvernoApplied {
  /** The resource after every mutate rule that matched it, as `kyverno apply --output` writes it. */
  resource: Record<string, unknown>;
  /** The targets of mutate-existing rules as those rules patched them, in rule order. */
  patchedTargets: Record<string, unknown>[];
  /** Every rule that matched the resource; a rule whose match excludes it is not listed. */
  rules: KyvernoRuleResult[];
}

/**
 * Runs Kyverno's own engine — `kyverno apply` of the pinned CLI (.tools/bin/kyverno, built by
 * tools/bootstrap at the version platform.yaml declares) — offline on one resource: the Kyverno
 * policies of `policyYaml` (other documents, e.g. a ClusterRole beside them, are left out) as the
 * admission webhook applies them, and their mutate-existing rules as the background controller
 * does, with the resource itself as the cluster's only object (so a rule that targets it patches it).
 *
 * Kyverno is silent where a conditional anchor matches no list element: the caller sees it in the
 * resource it gets back, or as `skip` when the anchor was all the rule patched. A policy Kyverno
 * cannot load (which the CLI itself skips with exit 0) throws with Kyverno's own reason.
 */
export async function kyvernoApply(policyYaml: string, resource: object): Promise<KyvernoApplied> {
  const policies = parseAllDocuments(policyYaml).filter((d) => {
    const doc = d.toJS() as unknown;
    return isRecord(doc) && String(doc.apiVersion).startsWith("kyverno.io/");
  });
  if (policies.length === 0) throw new Error("kyvernoApply: no kyverno.io policy in the policy YAML");
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-kyverno-"));
  try {
    const file = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const out = file("mutated.yaml", "");
    const run = await execa(
      toolPath("kyverno", process.env),
      [
        "apply",
        file("policy.yaml", policies.map((d) => d.toString()).join("---\n")),
        "--resource",
        file("resource.yaml", JSON.stringify(resource)),
        "--output",
        out,
        "--policy-report",
        "--output-format",
        "json",
        "--remove-color",
        // The CLI skips a policy it cannot load with exit 0, and logs why only from -v 3.
        "-v",
        "3",
      ],
      { reject: false, cwd: dir },
    );
    const stderr = stripVTControlCharacters(run.stderr);
    const skipped = stderr.split("\n").filter((l) => /skipping invalid|parsing error/i.test(l));
    if (run.exitCode !== 0 || skipped.length > 0)
      throw new Error(
        `kyverno apply failed (exit ${run.exitCode}):\n${skipped.join("\n") || `${run.stdout}\n${stderr}`}`,
      );
    // The report is the last line; the CLI prints its mutation notice before it, without a newline.
    const at = run.stdout.indexOf('{"kind":');
    const report = (at < 0 ? {} : JSON.parse(run.stdout.slice(at))) as {
      results?: Record<string, unknown>[];
    };
    const [mutated, ...patchedTargets] = parseAllDocuments(readFileSync(out, "utf8"))
      .map((d) => d.toJS() as unknown)
      .filter(isRecord);
    if (!mutated) throw new Error(`kyverno apply wrote no resource:\n${run.stdout}\n${stderr}`);
    return {
      resource: mutated,
      patchedTargets,
      rules: (report.results ?? []).map((r) => ({
        policy: String(r.policy),
        rule: String(r.rule),
        result: String(r.result),
        message: String(r.message ?? ""),
      })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
