import type { Finding } from "../../findings.ts";
import { field } from "../../manifests/resources.ts";
import { at, type RuleContext, type Subject, subjectsOf } from "./subject.ts";

// Its catalog row is in rules.ts (ruleCatalog), as every rule's; index.ts calls `arcRules`.
const id = "arc/runner-service-account";

/** The chart of a HelmRelease (`spec.chart.spec.chart`), if it names one. */
function chartOf(release: Subject): string | undefined {
  const chart = field(release.object, "spec", "chart", "spec", "chart");
  return typeof chart === "string" ? chart : undefined;
}

/**
 * The namespace the gha-runner-scale-set chart puts the AutoscalingRunnerSet (and so the runner
 * pods) in: `namespaceOverride`, else the release namespace (`targetNamespace`, else the
 * HelmRelease's own), as the chart's `gha-runner-scale-set.namespace` helper does.
 */
function runnerNamespace(release: Subject): string {
  const override = field(release.object, "spec", "values", "namespaceOverride");
  if (typeof override === "string" && override !== "") return override;
  const target = field(release.object, "spec", "targetNamespace");
  return typeof target === "string" && target !== "" ? target : release.namespace;
}

/**
 * ARC creates the runner pods with `template.spec.serviceAccountName` in the scale set's namespace;
 * a ServiceAccount missing there (or defined in another namespace) makes the API server reject
 * every pod, and the failure shows only on the EphemeralRunner, long after Flux reported Ready.
 */
export function arcRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const accounts = context.subjects.filter((s) => s.apiVersion === "v1" && s.kind === "ServiceAccount");
  for (const release of subjectsOf(context, "helm.toolkit.fluxcd.io", "HelmRelease")) {
    if (chartOf(release) !== "gha-runner-scale-set") continue;
    const name = field(release.object, "spec", "values", "template", "spec", "serviceAccountName");
    // Unset: the chart creates its own ServiceAccount without permissions.
    if (typeof name !== "string" || name === "") continue;
    const namespace = runnerNamespace(release);
    if (accounts.some((a) => a.name === name && a.namespace === namespace)) continue;
    const elsewhere = accounts.filter((a) => a.name === name).map((a) => a.namespace);
    findings.push({
      severity: "error",
      rule: id,
      ...at(release, "/spec/values/template/spec/serviceAccountName"),
      message:
        elsewhere.length > 0
          ? `HelmRelease ${release.namespace}/${release.name}: runner pods run in ${namespace} as ServiceAccount ${name}, which is defined in ${elsewhere.join(", ")} only: the API server rejects the pods`
          : `HelmRelease ${release.namespace}/${release.name}: runner pods run in ${namespace} as ServiceAccount ${name}, which no manifest defines: the API server rejects the pods`,
      hint: `define ServiceAccount ${name} in namespace ${namespace} (with the RoleBindings it needs), or run the scale set in the ServiceAccount's namespace`,
    });
  }
  return findings;
}
