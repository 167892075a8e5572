/**
 * What release-please's node-workspace plugin reads and writes for one package: its package.json's
 * workspace dependencies and the `### Dependencies` notes (plugins/node-workspace.ts
 * getChangelogDepsNotes, plugins/workspace.ts appendDependenciesSectionToChangelog). Pure; the
 * planning across components is workspace.ts.
 */
import { type DependencyType, dependencyTypes, newVersionWithRange } from "./version-files.ts";

/** One component's package.json as the plugin reads it. */
export interface WorkspacePackage {
  component: string;
  /** The package.json's repo-relative path. */
  file: string;
  name: string;
  dependencies: Record<DependencyType, Record<string, string>>;
}

/** The dependency maps that are edges of the graph (release-please's combineDeps). */
export const edgeTypes: readonly DependencyType[] = [
  "dependencies",
  "devDependencies",
  "optionalDependencies",
];

/** A component's package.json read as a workspace package; undefined without a string `name`. */
export function workspacePackageOf(
  component: string,
  file: string,
  content: string,
): WorkspacePackage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const json = parsed as Record<string, unknown>;
  if (typeof json.name !== "string") return undefined;
  const dependencies = {} as WorkspacePackage["dependencies"];
  for (const type of dependencyTypes) {
    const map = json[type];
    dependencies[type] = {};
    if (typeof map !== "object" || map === null) continue;
    for (const [name, range] of Object.entries(map))
      if (typeof range === "string") dependencies[type][name] = range;
  }
  return { component, file, name: json.name, dependencies };
}

/**
 * release-please's getChangelogDepsNotes: for each dependency map (dependencies, devDependencies,
 * peerDependencies, optionalDependencies) the released packages it names, `<name> bumped from
 * <range> to <new range>` (`bumped to <version>` for a `workspace:` range; a range that would not
 * change is left out). Empty when nothing is listed.
 */
export function dependencyNotes(pkg: WorkspacePackage, versions: ReadonlyMap<string, string>): string {
  let notes = "";
  for (const type of dependencyTypes) {
    const lines: string[] = [];
    for (const [name, range] of Object.entries(pkg.dependencies[type])) {
      const version = versions.get(name);
      if (!version) continue;
      const next = newVersionWithRange(range, version);
      if (range.startsWith("workspace:")) lines.push(`\n    * ${name} bumped to ${next}`);
      else if (next !== range) lines.push(`\n    * ${name} bumped from ${range} to ${next}`);
    }
    if (lines.length > 0) notes += `\n  * ${type}${lines.join("")}`;
  }
  return notes ? `* The following workspace dependencies were updated${notes}` : "";
}

/**
 * release-please's appendDependenciesSectionToChangelog: the notes under a `### Dependencies`
 * heading after the entry (two blank lines before it), or into an existing Dependencies section
 * after its list (where release-please repeats the whole entry instead, a bug not copied). `entry`
 * and the result have no final newline, as release-please's.
 */
export function appendDependenciesSection(entry: string, notes: string): string {
  if (!entry) return `### Dependencies\n\n${notes}`;
  const lines: string[] = [];
  let seenSection = false;
  let seenSpacer = false;
  let injected = false;
  for (const line of entry.split("\n")) {
    if (seenSection) {
      const trimmed = line.trim();
      // release-please pushes the whole entry here (`newLines.push(changelog)`), repeating it
      // inside itself; the notes are what it means to insert (a deliberate difference).
      if (seenSpacer && !injected && !trimmed.startsWith("*")) {
        lines.push(notes);
        injected = true;
      }
      if (trimmed === "") seenSpacer = true;
    }
    if (/### Dependencies/.test(line)) seenSection = true;
    lines.push(line);
  }
  if (injected) return lines.join("\n");
  if (seenSection) return `${entry}\n${notes}`;
  return `${entry}\n\n\n### Dependencies\n\n${notes}`;
}

/** A release section (ending with a newline) with the Dependencies notes appended. */
export function withDependencies(section: string, notes: string): string {
  if (!notes) return section;
  return `${appendDependenciesSection(section.replace(/\n+$/, ""), notes)}\n`;
}
