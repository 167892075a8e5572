import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { toolsRepoRoot } from "../../src/tools/paths.ts";

// What the runner tests read from the repository: the apps as `kubectl kustomize` renders them
// (what Flux applies) and deploy-verify.yml's runner labels. Shared by runner-*.test.ts.

const execFileAsync = promisify(execFile);

export type Json = Record<string, unknown>;

export interface K8sObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

export const verifyRunnerDir = path.join(toolsRepoRoot, "apps", "verify-runner");
export const haosEnigmaDir = path.join(toolsRepoRoot, "apps", "haos-enigma");

/** `kubectl kustomize <dir>`: the objects Flux's kustomize-controller applies. */
export async function buildApp(dir: string): Promise<K8sObject[]> {
  const { stdout } = await execFileAsync("kubectl", ["kustomize", dir], { maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function get(object: unknown, ...segments: string[]): unknown {
  let current = object;
  for (const s of segments) {
    if (!current || typeof current !== "object") return undefined;
    current = (current as Json)[s];
  }
  return current;
}

export function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
}

/** The HelmRelease installing `chart` (spec.chart.spec.chart). */
export function releaseOf(objects: K8sObject[], chart: string): K8sObject {
  return only(
    objects.filter((o) => o.kind === "HelmRelease" && get(o, "spec", "chart", "spec", "chart") === chart),
    `HelmRelease of chart ${chart}`,
  );
}

/** The chart's `gha-runner-scale-set-controller.fullname` (templates/_helpers.tpl, 0.14.2). */
export function controllerFullname(release: K8sObject): string {
  const override = get(release, "spec", "values", "fullnameOverride");
  if (typeof override === "string" && override !== "") return override;
  const name = release.metadata.name;
  return name.includes("gha-rs-controller") ? name : `${name}-gha-rs-controller`;
}

/** The labels a scale set registers: its name (runnerScaleSetName, else the release name) + scaleSetLabels. */
export function scaleSetLabels(release: K8sObject): string[] {
  const name = get(release, "spec", "values", "runnerScaleSetName");
  const extra = get(release, "spec", "values", "scaleSetLabels");
  return [
    typeof name === "string" && name !== "" ? name : release.metadata.name,
    ...(Array.isArray(extra) ? extra.map(String) : []),
  ];
}

export const deployVerifyPath = path.join(toolsRepoRoot, ".github", "workflows", "deploy-verify.yml");

/**
 * The labels deploy-verify.yml's job asks for when neither the manual input nor the repository
 * variable is set: the JSON literal at the end of `fromJSON(inputs.runner-labels || vars.VERIFY_RUNNER_LABELS || '<json>')`.
 */
export function workflowDefaultLabels(): { runsOn: string; labels: string[] } {
  const doc = parse(readFileSync(deployVerifyPath, "utf8")) as Json;
  const runsOn = String(get(doc, "jobs", "verify", "runs-on"));
  const literal = /\|\|\s*'(\[[^']*\])'\s*\)\s*\}\}$/.exec(runsOn)?.[1];
  if (!literal) throw new Error(`runs-on has no default label literal: ${runsOn}`);
  return { runsOn, labels: JSON.parse(literal) as string[] };
}
