/**
 * Which commits belong to which component. The rule, in order:
 *
 * 1. A changed file belongs to the component whose `path` contains it most specifically (the
 *    repository component, path `.`, contains everything, so it gets exactly the files that belong
 *    to no other component) — unless that component `excludes` the file.
 * 2. A file also belongs to every component that lists it in `extraPaths` (and does not exclude it).
 * 3. A commit belongs to a component when at least one of its files does (renames count as delete
 *    plus add, so moving a file out of a component counts for both sides).
 * 4. A commit that changes no files (`git commit --allow-empty`, e.g. to carry `Release-As:`) belongs
 *    to the component its Conventional Commits scope names, else to the repository component.
 *
 * Paths are repo-relative; an entry without `*`/`?` matches itself and everything below it; globs
 * use `*` (one segment), `**` (any depth) and `?`.
 */
import type { ComponentConfig } from "./config.ts";

type Matcher = (file: string) => boolean;

function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      out += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}(?:/.*)?$`);
}

/** A matcher for one path entry: `.` is everything, a plain path is itself and below, else a glob. */
export function pathMatcher(entry: string): Matcher {
  const clean = entry.replace(/^\.\//, "").replace(/\/+$/, "");
  if (clean === "." || clean === "") return () => true;
  if (/[*?]/.test(clean)) {
    const re = globToRegExp(clean);
    return (file) => re.test(file);
  }
  return (file) => file === clean || file.startsWith(`${clean}/`);
}

interface CompiledComponent {
  name: string;
  depth: number;
  inPath: Matcher;
  extra: Matcher[];
  excluded: Matcher[];
}

/** Assigns files and commits to components by the rule above. */
export class ComponentScopes {
  private readonly compiled: CompiledComponent[];
  private readonly rootName: string | undefined;
  private readonly cache = new Map<string, string[]>();

  constructor(components: readonly ComponentConfig[]) {
    this.compiled = components
      .map((c) => ({
        name: c.name,
        depth: c.path === "." ? 0 : c.path.split("/").length,
        inPath: pathMatcher(c.path),
        extra: c.extraPaths.map(pathMatcher),
        excluded: c.excludes.map(pathMatcher),
      }))
      .sort((a, b) => b.depth - a.depth);
    this.rootName = components.find((c) => c.path === ".")?.name;
  }

  /** Names of the components a file belongs to. */
  ownersOf(file: string): string[] {
    const cached = this.cache.get(file);
    if (cached) return cached;
    const owners: string[] = [];
    const primary = this.compiled.find((c) => c.inPath(file));
    if (primary && !primary.excluded.some((m) => m(file))) owners.push(primary.name);
    for (const c of this.compiled) {
      if (!owners.includes(c.name) && c.extra.some((m) => m(file)) && !c.excluded.some((m) => m(file))) {
        owners.push(c.name);
      }
    }
    this.cache.set(file, owners);
    return owners;
  }

  /** Why a commit with these files (and Conventional Commits scope) does or does not belong to `component`. */
  belongs(component: string, files: readonly string[], scope?: string): { belongs: boolean; reason: string } {
    if (files.length === 0) {
      const byScope = scope !== undefined && this.compiled.some((c) => c.name === scope);
      const owner = byScope ? scope : this.rootName;
      return owner === component
        ? {
            belongs: true,
            reason: byScope
              ? `changes no files; scope (${scope}) names this component`
              : "changes no files; empty commits belong to the repository component",
          }
        : {
            belongs: false,
            reason: `changes no files; empty commits belong to ${owner ?? "no component"} (its scope names no other component)`,
          };
    }
    const others = new Set<string>();
    const excludedHere: string[] = [];
    const unowned: string[] = [];
    const self = this.compiled.find((c) => c.name === component);
    for (const file of files) {
      const owners = this.ownersOf(file);
      if (owners.includes(component)) return { belongs: true, reason: `changes ${file}` };
      for (const o of owners) others.add(o);
      // Said of a file only when it lies in this component's path or extraPaths and its excludes drop it.
      if (
        self &&
        (self.inPath(file) || self.extra.some((m) => m(file))) &&
        self.excluded.some((m) => m(file))
      )
        excludedHere.push(file);
      else if (owners.length === 0) unowned.push(file);
    }
    const sample = (list: readonly string[]) =>
      list.slice(0, 3).join(", ") + (list.length > 3 ? ` (+${list.length - 3} more)` : "");
    const parts: string[] = [];
    if (others.size > 0)
      parts.push(
        `changes only files of ${[...others].join(", ")}: ${sample(files.filter((f) => this.ownersOf(f).length > 0))}`,
      );
    if (excludedHere.length > 0) parts.push(`files ${component}'s excludes drop: ${sample(excludedHere)}`);
    if (unowned.length > 0) parts.push(`files no component's path or extraPaths covers: ${sample(unowned)}`);
    return { belongs: false, reason: parts.join("; ") || `changes no file of ${component}` };
  }
}
