import path from "node:path";
import type { Finding } from "../../findings.ts";
import { apiGroup, field } from "../../manifests/resources.ts";
import { finding } from "../rules.ts";
import { at, type RuleContext, subjectsOf } from "./subject.ts";

/** `./apps/x/` → `apps/x`, the form kustomization directories are keyed by. */
export function normaliseFluxPath(spec: string): string {
  const normal = path.posix.normalize(spec.replace(/^\.?\/+/, "")).replace(/\/+$/, "");
  return normal === "" ? "." : normal;
}

/**
 * `wait: true` makes Flux wait for health, but it calls `apps.cozystack.io` objects healthy as soon
 * as they exist unless `healthCheckExprs` teach it their conditions.
 */
export function healthCheckRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const ks of subjectsOf(context, "kustomize.toolkit.fluxcd.io", "Kustomization")) {
    if (field(ks.object, "spec", "wait") !== true) continue;
    const specPath = field(ks.object, "spec", "path");
    const dir = normaliseFluxPath(typeof specPath === "string" ? specPath : ".");
    const exprs = field(ks.object, "spec", "healthCheckExprs");
    const covered = new Set(
      (Array.isArray(exprs) ? exprs : []).map(
        (e) => `${String(field(e, "apiVersion"))}/${String(field(e, "kind"))}`,
      ),
    );
    const kinds = new Set(
      context
        .buildOf(dir)
        .filter((s) => apiGroup(s.apiVersion) === "apps.cozystack.io")
        .map((s) => `${s.apiVersion}/${s.kind}`),
    );
    const missing = [...kinds].filter((k) => !covered.has(k)).sort();
    if (missing.length === 0) continue;
    findings.push(
      finding(
        "flux/health-check-exprs",
        at(ks, "/spec/wait"),
        `wait: true, but ${missing.join(", ")} ha${missing.length > 1 ? "ve" : "s"} no healthCheckExprs: Flux reports Ready before the VM exists`,
        "add spec.healthCheckExprs entries (apiVersion, kind, current, failed) reading the app's Ready condition",
      ),
    );
  }
  return findings;
}

const pruneKey = "kustomize.toolkit.fluxcd.io/prune";

/**
 * A namespace that existed before Flux (the tenant namespace, Flux's own) must carry
 * `kustomize.toolkit.fluxcd.io/prune: disabled`, or removing it from git deletes everything in it.
 */
export function pruneProtectionRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const ns of context.subjects.filter((s) => s.apiVersion === "v1" && s.kind === "Namespace")) {
    const platform = context.platformOf(ns);
    if (!platform) continue;
    const protectedNames = [platform.cluster.tenantNamespace, platform.cluster.fluxNamespace];
    if (!protectedNames.includes(ns.name)) continue;
    if (field(ns.object, "metadata", "annotations", pruneKey) === "disabled") continue;
    const annotations = field(ns.object, "metadata", "annotations");
    findings.push(
      finding(
        "flux/prune-protection",
        at(ns, annotations ? "/metadata/annotations" : "/metadata"),
        `namespace ${ns.name} exists before Flux (${platform.file}) but is not protected from pruning: deleting it from git would delete the namespace and everything in it`,
        `add the annotation ${pruneKey}: disabled`,
      ),
    );
  }
  return findings;
}
