import type { Finding } from "../../findings.ts";
import { lintSyntax } from "../../lint/documents.ts";
import { at, type Subject } from "../../lint/platform/subject.ts";
import { finding } from "../../lint/rules.ts";
import type { Kustomization } from "../../manifests/kustomization.ts";
import { type BuildFailure, kustomizeEngine } from "../../manifests/kustomize-build.ts";
import type { KustomizeBuilder } from "../../manifests/kustomize-inprocess.ts";
import { kustomizationFileOf, type Workspace } from "../../manifests/workspace.ts";
import { pointerExists, pointerPosition } from "../../manifests/yaml-source.ts";
import { type BuildStage, buildStage, defaultBuildCacheDir } from "../build-stage.ts";
import type { ValidateContext } from "../context.ts";
import type { FluxKustomization } from "../flux.ts";

/** How the build stage reports its pace to the scheduler (schedule.ts buildTail). */
export interface BuildPace {
  /** Roots still to build (called with the plan, then after each batch). */
  left(left: number): void;
}

/**
 * The kustomize builds (validate/build-stage.ts: Flux's components, substitution, parents'
 * patches), each failure a build/kustomize finding at the entry it names.
 */
export async function buildStep(
  ctx: ValidateContext,
  helpers: Promise<KustomizeBuilder> | undefined,
  pace: BuildPace,
): Promise<BuildStage> {
  const { options, workspace } = ctx;
  const engine = kustomizeEngine(options);
  const cacheStats = { hits: 0, misses: 0 };
  const stage = await buildStage(workspace, {
    env: options.env,
    ...(engine === "kubectl" ? { kubectl: options.kubectl ?? "kubectl" } : {}),
    ...(helpers ? { helpers } : {}),
    ...(options.fluxRender ? { fluxRender: options.fluxRender } : {}),
    ...(options.buildCache === false ? {} : { buildCache: defaultBuildCacheDir(options.env) }),
    buildCacheStats: cacheStats,
    onPlan: ({ units }) => {
      ctx.stats.builds = units.length;
      ctx.progress(
        "build",
        "running",
        `${engine === "kubectl" ? "kubectl kustomize" : "kustomize (in-process)"}: ${units.length} builds of ${workspace.kustomizationDirs.length} kustomizations`,
      );
      pace.left(units.length);
    },
    onChunk: (n, total) => {
      pace.left(total - n);
      ctx.progress("build", "progress", `${n}/${total} build batches`);
    },
  });
  const { kustomizations, byDir, units, fluxByDir, built } = stage;
  ctx.stats.builds = units.length;
  if (cacheStats.hits > 0)
    ctx.progress(
      "build",
      "progress",
      `build cache: ${cacheStats.hits}/${cacheStats.hits + cacheStats.misses} kept`,
    );
  const unitOf = new Map(units.map((u) => [u.dir, u]));
  ctx.findings.push(
    ...built.failures.map((f) =>
      buildFailureFinding(
        f,
        workspace,
        kustomizations,
        unitOf.get(f.dir)?.generated?.flatMap((e) => (byDir.has(e) ? listedFiles(e, byDir) : [e])) ??
          listedFiles(f.dir, byDir),
        fluxByDir.get(f.dir),
      ),
    ),
  );
  ctx.findings.push(...stage.findings);
  return stage;
}

/** The files a kustomization lists, through the kustomization directories it includes. */
export function listedFiles(
  dir: string,
  byDir: ReadonlyMap<string, Kustomization>,
  seen = new Set<string>(),
): string[] {
  if (seen.has(dir)) return [];
  seen.add(dir);
  const k = byDir.get(dir);
  if (!k) return [];
  return k.entries.flatMap((e) => {
    if (!e.path) return [];
    if (byDir.has(e.path)) return listedFiles(e.path, byDir, seen);
    return [e.path];
  });
}

/** kubectl's message cut to its innermost cause (kustomize nests every level's context). */
export function shortenBuildMessage(message: string, max = 220): string {
  const parts = message.split(/: (?=[a-zA-Z'"])/);
  let inner = parts.slice(-2).join(": ");
  if (parts.length > 2 && inner.length < 60) inner = parts.slice(-3).join(": ");
  return inner.length > max ? `${inner.slice(0, max - 1)}…` : inner;
}

/**
 * The kustomization field that configures each of kustomize's builtin plugins: a failure of
 * `builtin HelmChartInflationGenerator` sits at `helmCharts:`, not at 1:1.
 */
const builtinFields: Readonly<Record<string, string>> = {
  HelmChartInflationGenerator: "helmCharts",
  ConfigMapGenerator: "configMapGenerator",
  SecretGenerator: "secretGenerator",
  PatchTransformer: "patches",
  ReplacementTransformer: "replacements",
  ImageTagTransformer: "images",
  ReplicaCountTransformer: "replicas",
};

/**
 * The pointer of the kustomization's own field a build failure names when it names no entry: the
 * builtin plugin's field, else a top-level field the message quotes.
 */
function failedField(message: string, doc: Kustomization["source"]["documents"][number]): string | undefined {
  const builtin = /builtin (\w+)/.exec(message)?.[1];
  const named = builtin ? builtinFields[builtin] : undefined;
  if (named && pointerExists(doc, `/${named}`)) return `/${named}`;
  const root = doc.ast.contents as { items?: { key?: { value?: unknown } }[] } | null;
  const keys = (root?.items ?? []).map((i) => i.key?.value).filter((k): k is string => typeof k === "string");
  const quoted = keys.find((k) => new RegExp(`["'\`]${k}["'\`]|\\b${k}:`).test(message));
  return quoted ? `/${quoted}` : undefined;
}

/** kustomize's message without the plugin configuration it dumps (` with config: \`…\``). */
const withoutConfigDump = (message: string) => message.replace(/ with config: `[\s\S]*?`/, "");

function buildFailureFinding(
  failure: BuildFailure,
  workspace: Workspace,
  kustomizations: Kustomization[],
  listed: readonly string[] = [],
  flux?: FluxKustomization,
): Finding {
  const k = kustomizations.find((x) => x.dir === failure.dir);
  const own = kustomizationFileOf(workspace, failure.dir)?.file;
  // kustomize names no file for a repeated key: the listed file whose parse has one is it.
  const repeated = /mapping key "([^"]*)" already defined/.test(failure.message)
    ? listed.find((f) => {
        const source = workspace.files.get(f);
        return source !== undefined && lintSyntax(source).some((x) => x.rule === "yaml/duplicate-key");
      })
    : undefined;
  const entry = k?.entries.find(
    (e) =>
      failure.message.includes(`'${e.entry}'`) ||
      failure.message.includes(`/${e.entry}`) ||
      (repeated !== undefined && (e.path === repeated || repeated.startsWith(`${e.path}/`))),
  );
  const doc = k?.source.documents[0];
  // A Flux path without a kustomization file (Flux generates one) fails at the Kustomization that
  // names it: never at a file that does not exist.
  const fluxAt =
    own === undefined && flux
      ? at({ resource: flux.resource, file: flux.resource.source.file } as Subject, "/spec/path")
      : undefined;
  const file = own ?? fluxAt?.file ?? `${failure.dir}/kustomization.yaml`;
  const field = !entry && doc && own !== undefined ? failedField(failure.message, doc) : undefined;
  const pos = fluxAt
    ? { line: fluxAt.line, column: fluxAt.column }
    : k && doc && entry
      ? pointerPosition(k.source, doc, entry.pointer)
      : k && doc && field
        ? pointerPosition(k.source, doc, field)
        : { line: 1, column: 1 };
  const message = repeated
    ? `kustomize build failed: ${repeated} repeats a key (${shortenBuildMessage(failure.message.replace(/\s*\n\s*/g, " "))}): Flux applies nothing of this build; its files are checked one by one`
    : `kustomize build failed: ${shortenBuildMessage(withoutConfigDump(failure.message))}`;
  const hint = repeated
    ? `remove or merge the repeated key in ${repeated} (see yaml/duplicate-key there)`
    : field === "/helmCharts"
      ? "Flux's kustomize-controller builds without --enable-helm, so helmCharts never render: install the chart with a Flux HelmRelease instead"
      : "run `kubectl kustomize` on the directory and fix the reported entry";
  return finding("build/kustomize", { file, ...pos }, message, hint);
}
