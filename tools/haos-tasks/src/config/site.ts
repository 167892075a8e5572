import { HintedError } from "../errors.ts";
import type { Position } from "../manifests/yaml-source.ts";

/** The configuration file, at the repository root. */
export const configFileName = ".haos-tasks.yaml";

/** One thing wrong in the configuration file, at its place, with the fix. */
export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  message: string;
  hint: string;
}

/**
 * A configuration file that does not hold: every problem found, each at its file:line:col. Exit
 * code 2 (usage), like a bad flag.
 */
export class ConfigError extends HintedError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join("\n"),
      [...new Set(problems.map((p) => p.hint))].join("; "),
    );
    this.problems = problems;
  }
}

/** Where the configuration sits: what a section's converter needs to report at a JSON pointer. */
export interface ConfigSite {
  /** The file as the user names it (`.haos-tasks.yaml`). */
  file: string;
  /** The source position of a JSON pointer (`/release/components/a/path`); its nearest ancestor if absent. */
  position(pointer: string): Position;
  /** Throws a ConfigError at the pointer's position. */
  fail(pointer: string, message: string, hint: string): never;
}

/** `release.components.a.versionFiles[0]` for `/release/components/a/versionFiles/0` in `data`. */
export function dottedPath(segments: readonly string[], data: unknown): string {
  let out = "";
  let node = data;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      out += `[${segment}]`;
      node = node[Number(segment)];
    } else {
      out += out === "" ? segment : `.${segment}`;
      node =
        node !== null && typeof node === "object" ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return out;
}
