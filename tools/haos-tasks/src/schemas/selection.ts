import { HintedError } from "../errors.ts";
import type { Platform } from "../platform/platform.ts";
import { cozystackLine } from "../platform/platform.ts";
import type { LockedSource, SchemaLock } from "./sources.ts";

export class SelectionError extends HintedError {}

/** `https://raw.githubusercontent.com/<owner>/<repo>/<tag>/<path>` split into its parts. */
export interface SourceAddress {
  repo: string;
  tag: string;
  path: string;
}

export function sourceAddress(url: string): SourceAddress {
  const [owner = "", repo = "", tag = "", ...rest] = new URL(url).pathname.split("/").filter(Boolean);
  return { repo: `${owner}/${repo}`, tag, path: rest.join("/") };
}

/** Which platform version pins each upstream repository's tag. */
function declaredTag(repo: string, platform: Platform): ((tag: string) => boolean) | undefined {
  const v = platform.versions;
  const exact = (version: string) => (tag: string) => tag === version;
  switch (repo) {
    case "fluxcd/source-controller":
      return exact(v.flux.sourceController);
    case "fluxcd/kustomize-controller":
      return exact(v.flux.kustomizeController);
    case "fluxcd/helm-controller":
      return exact(v.flux.helmController);
    case "kubevirt/kubevirt":
      return exact(v.kubevirt);
    case "kubevirt/containerized-data-importer":
      return exact(v.cdi);
    case "kubeovn/kube-ovn":
      return exact(v.kubeOvn);
    case "k8snetworkplumbingwg/multus-cni":
      return exact(v.multus);
    case "kyverno/kyverno":
      return exact(v.kyverno);
    // The Python client's major version is the Kubernetes minor: v34.x ↔ 1.34.
    case "kubernetes-client/python":
      return (tag) => tag.startsWith(`v${String(v.kubernetes).split(".")[1] ?? ""}.`);
    default:
      return undefined;
  }
}

export interface Selection {
  /** The sources the catalog is built from, in lock order. */
  sources: LockedSource[];
  /** Human-readable notes (e.g. a CozyStack file taken from another release of the same line). */
  notes: string[];
}

/**
 * The lock entries a platform's catalog is built from: converted kinds only (`reference` sources are
 * for rules), each upstream repository at the version the platform declares, and CozyStack files of
 * the declared line only. A declared version the lock does not pin is an error naming the fix.
 */
export function selectSources(lock: SchemaLock, platform: Platform): Selection {
  const converted = lock.sources.filter((s) => s.kind !== "reference");
  const notes: string[] = [];
  const byRepo = new Map<string, LockedSource[]>();
  for (const source of converted) {
    const { repo } = sourceAddress(source.url);
    byRepo.set(repo, [...(byRepo.get(repo) ?? []), source]);
  }
  const chosen = new Set<LockedSource>();
  for (const [repo, sources] of byRepo) {
    if (repo === "cozystack/cozystack") {
      for (const s of selectCozystack(sources, platform, notes)) chosen.add(s);
      continue;
    }
    const matches = declaredTag(repo, platform);
    const picked = matches ? sources.filter((s) => matches(sourceAddress(s.url).tag)) : sources;
    if (picked.length === 0) {
      const tags = [...new Set(sources.map((s) => sourceAddress(s.url).tag))].join(", ");
      throw new SelectionError(
        `${platform.file}: the declared version of ${repo} is not pinned in schemas.lock.json (pinned: ${tags})`,
        `add the ${repo} sources for the declared version to tools/haos-tasks/schemas.lock.json (URL + sha256), or declare a pinned version`,
      );
    }
    for (const s of picked) chosen.add(s);
  }
  return { sources: converted.filter((s) => chosen.has(s)), notes };
}

/**
 * CozyStack files of the declared release, else of the newest pinned release of the same line
 * (VMDisk/VMInstance fields differ between lines, so app schemas never cross lines).
 */
function selectCozystack(sources: LockedSource[], platform: Platform, notes: string[]): LockedSource[] {
  const declared = String(platform.versions.cozystack);
  const line = cozystackLine(declared);
  const byPath = new Map<string, LockedSource[]>();
  for (const s of sources) {
    const { path } = sourceAddress(s.url);
    byPath.set(path, [...(byPath.get(path) ?? []), s]);
  }
  const picked: LockedSource[] = [];
  for (const [file, candidates] of byPath) {
    const exact = candidates.find((s) => sourceAddress(s.url).tag === declared);
    const sameLine = candidates
      .filter((s) => cozystackLine(sourceAddress(s.url).tag) === line)
      .sort((a, b) => compareTags(sourceAddress(b.url).tag, sourceAddress(a.url).tag));
    // Operator CRDs (VictoriaMetrics, ApplicationDefinition) do not change with the app schemas:
    // take the newest pinned release when the declared line pins none.
    const anyRelease = candidates
      .filter((s) => s.kind === "crd")
      .sort((a, b) => compareTags(sourceAddress(b.url).tag, sourceAddress(a.url).tag));
    const source = exact ?? sameLine[0] ?? anyRelease[0];
    if (source && !exact) {
      notes.push(`cozystack ${file}: using ${sourceAddress(source.url).tag} (declared ${declared})`);
    }
    if (source) picked.push(source);
    else if (candidates.every((s) => s.kind === "cozystack-values-schema")) {
      throw new SelectionError(
        `${platform.file}: no CozyStack ${line} release pins ${file} in schemas.lock.json`,
        `pin ${file} of CozyStack ${declared} in tools/haos-tasks/schemas.lock.json`,
      );
    }
  }
  const charts = picked.filter((s) => s.kind === "cozystack-values-schema").length;
  if (charts === 0) {
    throw new SelectionError(
      `${platform.file}: CozyStack ${declared}: no values.schema.json of its line is pinned`,
      `pin the vm-disk and vm-instance values.schema.json of CozyStack ${declared} in tools/haos-tasks/schemas.lock.json`,
    );
  }
  return picked;
}

/** Orders `v1.6.2`-style tags numerically. */
export function compareTags(a: string, b: string): number {
  const parts = (t: string) => t.replace(/^v/, "").split(".").map(Number);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
