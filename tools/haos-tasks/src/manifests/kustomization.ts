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

/**
 * The kustomization directories another kustomization includes (`resources`, `bases`,
 * `components` naming a directory), except through a cycle: a kustomization that includes itself
 * (`resources: [.]`), or a→b→a, is included only by its own cycle. Each cycle no one else includes
 * keeps one member (the first by name) out of the set, so it is built as a root and fails as
 * `kubectl kustomize` and Flux fail it ("cycle detected") instead of never being built — its
 * objects silently gone.
 */
export function includedDirectories(kustomizations: readonly Kustomization[]): Set<string> {
  const known = new Set(kustomizations.map((k) => k.dir));
  const edges = new Map(
    kustomizations.map((k) => [
      k.dir,
      [
        ...new Set(
          k.entries.flatMap((e) => (e.mayBeDirectory && e.path && known.has(e.path) ? [e.path] : [])),
        ),
      ],
    ]),
  );
  const component = stronglyConnected([...known].sort(), (dir) => edges.get(dir) ?? []);
  const included = new Set<string>();
  const includedFromOutside = new Set<number>();
  for (const [from, targets] of edges) {
    for (const to of targets) {
      included.add(to);
      if (component.get(from) !== component.get(to)) includedFromOutside.add(component.get(to) as number);
    }
  }
  // A cycle nothing outside includes: its first member is built (and fails as kustomize does).
  const seen = new Set<number>();
  for (const dir of [...known].sort()) {
    const c = component.get(dir) as number;
    if (!included.has(dir) || includedFromOutside.has(c) || seen.has(c)) continue;
    seen.add(c);
    included.delete(dir);
  }
  return included;
}

/** Tarjan's strongly connected components, iteratively (a long chain must not overflow the stack). */
function stronglyConnected(
  nodes: readonly string[],
  next: (node: string) => readonly string[],
): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  let components = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work.at(-1) as { node: string; i: number };
      const targets = next(frame.node);
      if (frame.i < targets.length) {
        const to = targets[frame.i++] as string;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent)
        low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        for (;;) {
          const member = stack.pop() as string;
          onStack.delete(member);
          component.set(member, components);
          if (member === frame.node) break;
        }
        components++;
      }
    }
  }
  return component;
}
