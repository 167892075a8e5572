import { existsSync } from "node:fs";
import path from "node:path";
import type { Finding } from "../findings.ts";
import type { RuleContext, StockNames, Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import {
  cozystackLine,
  loadPlatform,
  type Platform,
  PlatformError,
  platformFileName,
} from "../platform/platform.ts";
import type { FetchOptions, SchemaLock } from "../schemas/sources.ts";
import { loadStockNames, loadV0InstanceProfiles } from "./stock.ts";

/** Finds and loads the platform declaration that applies to a file: the nearest platform.yaml above it. */
export class PlatformLookup {
  private readonly byDir = new Map<string, Promise<Platform | undefined>>();
  private readonly root: string;
  /** Declarations that could not be read, as findings (their apps get no platform rules). */
  readonly findings: Finding[] = [];

  constructor(root: string) {
    this.root = root;
  }

  /** The platform for a repo-relative file, or undefined outside any app with a platform.yaml. */
  async forFile(file: string): Promise<Platform | undefined> {
    return await this.forDir(path.posix.dirname(file));
  }

  /** The platform of each of the subjects' files: one lookup (and one await) per file, not per object. */
  async forFilesOf(subjects: readonly Subject[]): Promise<Map<string, Platform | undefined>> {
    const byFile = new Map<string, Platform | undefined>();
    for (const s of subjects) if (!byFile.has(s.file)) byFile.set(s.file, await this.forFile(s.file));
    return byFile;
  }

  private forDir(dir: string): Promise<Platform | undefined> {
    const cached = this.byDir.get(dir);
    if (cached) return cached;
    const result = (async () => {
      if (existsSync(path.join(this.root, dir, platformFileName))) {
        try {
          return await loadPlatform(dir, this.root);
        } catch (error) {
          if (!(error instanceof PlatformError)) throw error;
          const message = error.message.replace(`${error.file}${error.line ? `:${error.line}` : ""}: `, "");
          this.findings.push(
            finding(
              "platform/declaration",
              { file: error.file, line: error.line ?? 1, column: 1 },
              message,
              error.hint,
            ),
          );
          return undefined;
        }
      }
      if (dir === "." || dir === "" || dir === "/") return undefined;
      return await this.forDir(path.posix.dirname(dir));
    })();
    this.byDir.set(dir, result);
    return result;
  }
}

/** Builds the platform rules' context: each subject's platform and the stock names it ships. */
export async function ruleContext(
  subjects: readonly Subject[],
  platforms: PlatformLookup,
  lock: SchemaLock | undefined,
  fetch: FetchOptions,
): Promise<RuleContext> {
  const platformByFile = await platforms.forFilesOf(subjects);
  const versions = new Set([...platformByFile.values()].flatMap((p) => (p ? [p.versions.cozystack] : [])));
  const stock = new Map<string, StockNames | undefined>();
  let v0InstanceProfiles: string[] | undefined;
  for (const version of versions) {
    stock.set(version, lock ? await loadStockNames(lock, version, fetch) : undefined);
    if (lock && cozystackLine(version) === "v0")
      v0InstanceProfiles = await loadV0InstanceProfiles(lock, version, fetch);
  }
  const byBuild = new Map<string, Subject[]>();
  for (const s of subjects) {
    if (s.build === undefined) continue;
    const list = byBuild.get(s.build) ?? [];
    list.push(s);
    byBuild.set(s.build, list);
  }
  return {
    subjects,
    platformOf: (s) => platformByFile.get(s.file),
    stockOf: (version) => stock.get(version),
    v0InstanceProfiles,
    buildOf: (dir) =>
      byBuild.get(dir) ?? subjects.filter((s) => s.file.startsWith(dir === "." ? "" : `${dir}/`)),
  };
}
