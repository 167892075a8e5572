import path from "node:path";
import { field } from "./resources.ts";
import type { SourceFile } from "./yaml-source.ts";

/** One path a kustomization refers to, with the JSON pointer of the entry for findings. */
export interface KustomizationEntry {
  /** As written. */
  entry: string;
  /** Repo-relative, normalised; undefined for remote references (URLs, git). */
  path: string | undefined;
  pointer: string;
  /** `resources` and `components` may name directories; the others name files. */
  mayBeDirectory: boolean;
}

/** A Kustomize kustomization file and the local paths it refers to. */
export interface Kustomization {
  dir: string;
  source: SourceFile;
  entries: KustomizationEntry[];
}

const remote =
  /^(https?:\/\/|git@|ssh:\/\/|github\.com\/|gitlab\.com\/|bitbucket\.org\/)|\?ref=|\.git(\/\/|$)/;

// Without the trailing slash `resources: [sub/]` names the directory `sub`, as kustomize reads it;
// with it the entry matched no kustomization directory and `sub` was built a second time.
function localPath(dir: string, written: string): string {
  return path.posix.normalize(path.posix.join(dir, written)).replace(/(.)\/+$/, "$1");
}

function entry(dir: string, value: unknown, pointer: string, mayBeDirectory: boolean): KustomizationEntry[] {
  if (typeof value !== "string" || value === "") return [];
  // Generators take `key=path`; only the path is a file.
  const written = value.includes("=") && !mayBeDirectory ? value.slice(value.indexOf("=") + 1) : value;
  const isRemote = remote.test(written);
  return [
    {
      entry: value,
      path: isRemote ? undefined : localPath(dir, written),
      pointer,
      mayBeDirectory,
    },
  ];
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Reads the local paths of a kustomization (resources, components, patches, generators, …). */
export function readKustomization(source: SourceFile, dir: string): Kustomization {
  const doc = source.documents[0]?.value;
  const entries: KustomizationEntry[] = [];
  for (const key of ["resources", "bases", "components"]) {
    list(field(doc, key)).forEach((value, i) => {
      entries.push(...entry(dir, value, `/${key}/${i}`, true));
    });
  }
  for (const key of ["crds", "configurations", "transformers", "generators", "validators"]) {
    list(field(doc, key)).forEach((value, i) => {
      entries.push(...entry(dir, value, `/${key}/${i}`, true));
    });
  }
  list(field(doc, "patchesStrategicMerge")).forEach((value, i) => {
    if (typeof value === "string" && !value.includes("\n")) {
      entries.push(...entry(dir, value, `/patchesStrategicMerge/${i}`, false));
    }
  });
  for (const key of ["patches", "patchesJson6902", "replacements"]) {
    list(field(doc, key)).forEach((value, i) => {
      entries.push(...entry(dir, field(value, "path"), `/${key}/${i}/path`, false));
    });
  }
  for (const key of ["configMapGenerator", "secretGenerator"]) {
    list(field(doc, key)).forEach((generator, i) => {
      for (const sub of ["files", "envs"]) {
        list(field(generator, sub)).forEach((value, j) => {
          entries.push(...entry(dir, value, `/${key}/${i}/${sub}/${j}`, false));
        });
      }
      entries.push(...entry(dir, field(generator, "env"), `/${key}/${i}/env`, false));
    });
  }
  list(field(doc, "helmCharts")).forEach((chart, i) => {
    entries.push(...entry(dir, field(chart, "valuesFile"), `/helmCharts/${i}/valuesFile`, false));
  });
  return { dir, source, entries };
}
