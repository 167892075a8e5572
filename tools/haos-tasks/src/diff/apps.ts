import path from "node:path";
import { parse } from "yaml";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

/** A kustomization directory at one commit and the local paths its kustomization file loads. */
export interface KustomizationNode {
  /** Repo-relative directory, forward slashes, `.` for the root. */
  dir: string;
  /** Repo-relative files or directories it loads (see kustomizationReferences). */
  references: string[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isRemote = (ref: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || /^(github\.com|git@)/.test(ref);

/** The directories of a file list that hold a kustomization file, under any of `scopes`. */
export function kustomizationDirs(files: readonly string[], scopes: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const file of files) {
    const base = path.posix.basename(file);
    if (!(KUSTOMIZATION_FILES as readonly string[]).includes(base)) continue;
    const dir = path.posix.dirname(file);
    if (scopes.some((scope) => isWithin(dir, scope))) dirs.add(dir);
  }
  return [...dirs].sort();
}

/**
 * The repo-relative paths a kustomization file loads: resources, bases, components, crds,
 * patches, replacements, transformer/generator/validator configs, field configurations, the
 * OpenAPI schema, generator files and Helm values files and chart home. Remote URLs are skipped
 * (they cannot change in this repository).
 */
export function kustomizationReferences(dir: string, text: string): string[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return []; // an unparsable kustomization still builds (and fails) at render time
  }
  if (!isRecord(doc)) return [];
  const refs: string[] = [];
  const add = (value: unknown) => {
    // Inline YAML (a transformer config written into the list) is not a path.
    if (typeof value !== "string" || value === "" || value.includes("\n") || isRemote(value)) return;
    const file = value.includes("=") ? value.slice(value.indexOf("=") + 1) : value;
    refs.push(path.posix.normalize(path.posix.join(dir, file)));
  };
  const lists = [
    "resources",
    "bases",
    "components",
    "crds",
    "patchesStrategicMerge",
    "transformers",
    "generators",
    "validators",
    "configurations",
  ];
  for (const field of lists) {
    const list = doc[field];
    if (Array.isArray(list)) list.forEach(add);
  }
  for (const field of ["patches", "patchesJson6902", "replacements"]) {
    const list = doc[field];
    if (Array.isArray(list)) for (const p of list) if (isRecord(p)) add(p.path);
  }
  for (const field of ["configMapGenerator", "secretGenerator"]) {
    const list = doc[field];
    if (!Array.isArray(list)) continue;
    for (const generator of list) {
      if (!isRecord(generator)) continue;
      for (const key of ["files", "envs"]) if (Array.isArray(generator[key])) generator[key].forEach(add);
      add(generator.env);
    }
  }
  if (isRecord(doc.openapi)) add(doc.openapi.path);
  if (Array.isArray(doc.helmCharts)) {
    for (const chart of doc.helmCharts) {
      if (!isRecord(chart)) continue;
      add(chart.valuesFile);
      if (Array.isArray(chart.additionalValuesFiles)) chart.additionalValuesFiles.forEach(add);
    }
  }
  // Charts are read from here (default `charts/`, inside the directory) and may live elsewhere.
  if (isRecord(doc.helmGlobals)) add(doc.helmGlobals.chartHome);
  return refs;
}

/** True when `file` is `dir` or inside it (repo-relative, forward slashes). */
export function isWithin(file: string, dir: string): boolean {
  if (dir === "." || dir === "") return true;
  return file === dir || file.startsWith(`${dir}/`);
}

/**
 * The kustomization directories whose build output may differ because of `changed` files: a
 * changed file inside the directory or inside a path it loads, transitively. Only roots are
 * returned — a base used by an overlay that is itself affected is shown through the overlay.
 */
export function affectedApps(nodes: readonly KustomizationNode[], changed: readonly string[]): string[] {
  const byDir = new Map(nodes.map((n) => [n.dir, n]));
  const affected = new Set<string>();
  const touches = (target: string) => changed.some((file) => isWithin(file, target));
  for (const node of nodes) {
    if (touches(node.dir) || node.references.some(touches)) affected.add(node.dir);
  }
  // Propagate to every kustomization that loads an affected one, until nothing changes.
  let grew = true;
  while (grew) {
    grew = false;
    for (const node of nodes) {
      if (affected.has(node.dir)) continue;
      if (node.references.some((ref) => affected.has(ref) && byDir.has(ref))) {
        affected.add(node.dir);
        grew = true;
      }
    }
  }
  const loadedByAffected = new Set<string>();
  for (const dir of affected) for (const ref of byDir.get(dir)?.references ?? []) loadedByAffected.add(ref);
  return [...affected].filter((dir) => !loadedByAffected.has(dir)).sort();
}
