import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { HintedError } from "../errors.ts";
import { conversionError } from "../manifests/yaml-source.ts";
import type { Platform } from "../platform/platform.ts";

/** Chart prefixes: a VMDisk `x` is HelmRelease/DataVolume/PVC `vm-disk-x`, a VMInstance `vm-instance-x`. */
export const releasePrefix = { disk: "vm-disk-", instance: "vm-instance-" } as const;

export interface NamedRef {
  namespace: string;
  name: string;
}

export interface DiskTarget {
  /** The VMDisk (apps.cozystack.io) name. */
  app: NamedRef;
  /** HelmRelease, DataVolume and PVC share this name. */
  rendered: string;
  /** The manifest's `.spec`: what the app's HelmRelease must carry as values for this commit. */
  spec?: Record<string, unknown>;
}

export interface InstanceTarget {
  app: NamedRef;
  /** HelmRelease, VirtualMachine, VMI and Service share this name. */
  rendered: string;
  /** `external: true` with `externalMethod: WholeIP`. */
  wholeIp: boolean;
  /** The manifest's `.spec` (see DiskTarget.spec). */
  spec?: Record<string, unknown>;
}

/** Every object the rollout is judged by, derived from the app's manifests and platform.yaml. */
export interface VerifyTargets {
  gitRepository: NamedRef;
  kustomization: NamedRef & { wait: boolean };
  disks: DiskTarget[];
  instances: InstanceTarget[];
  expectedWholeIp: string;
  /** Present when platform.yaml declares the underlay: the VMI NIC and the LAN it must be on. */
  underlay?: { interfaceName: string; cidr: string };
  /** Repo-relative manifest files read, for messages. */
  files: string[];
}

export class TargetError extends HintedError {}

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
  resources?: unknown;
  /** kustomization.yaml's namespace transformer. */
  namespace?: unknown;
}

/** A manifest file and the `namespace:` the kustomization.yaml files above it set, if any. */
interface ManifestFile {
  file: string;
  kustomizeNamespace?: string;
}

/**
 * Files a kustomization.yaml lists (recursing into folders), or every *.yaml without one. The
 * outermost kustomization's `namespace:` wins, as kustomize applies the outer transformer last.
 */
async function manifestFiles(dir: string, inherited?: string): Promise<ManifestFile[]> {
  const kustomization = ["kustomization.yaml", "kustomization.yml"]
    .map((f) => path.join(dir, f))
    .find(existsSync);
  if (!kustomization) {
    const { readdir } = await import("node:fs/promises");
    return (await readdir(dir))
      .filter((f) => /\.ya?ml$/.test(f) && f !== "moon.yml")
      .map((f) => path.join(dir, f))
      .sort()
      .map((file) => (inherited ? { file, kustomizeNamespace: inherited } : { file }));
  }
  const parsed = parseAllDocuments(await readFile(kustomization, "utf8"))[0]?.toJS() as Manifest | undefined;
  const resources = Array.isArray(parsed?.resources) ? parsed.resources : [];
  const own = typeof parsed?.namespace === "string" && parsed.namespace ? parsed.namespace : undefined;
  const namespace = inherited ?? own;
  const entry = (file: string): ManifestFile =>
    namespace ? { file, kustomizeNamespace: namespace } : { file };
  const files = [{ file: kustomization }];
  for (const item of resources) {
    if (typeof item !== "string" || /^[a-z]+:\/\//.test(item)) continue;
    const full = path.resolve(dir, item);
    if (!existsSync(full)) continue;
    if (statSync(full).isDirectory()) files.push(...(await manifestFiles(full, namespace)));
    else files.push(entry(full));
  }
  return files;
}

const specOf = (m: Manifest): { spec?: Record<string, unknown> } =>
  m.spec && typeof m.spec === "object" && !Array.isArray(m.spec)
    ? { spec: m.spec as Record<string, unknown> }
    : {};

/** Throws unless `appDir` is a folder: checked before anything is read from it. */
export function checkAppFolder(appDir: string, repoRoot: string): void {
  const absolute = path.resolve(repoRoot, appDir);
  if (!existsSync(absolute) || !statSync(absolute).isDirectory())
    throw new TargetError(`${appDir}: no such app folder`, "pass --app <folder of the Flux app>");
}

/**
 * Reads the app folder's manifests and finds the Flux Kustomization that applies it, its
 * GitRepository, and the VMDisks/VMInstances whose rendered objects verify follows.
 */
export async function resolveTargets(
  appDir: string,
  repoRoot: string,
  platform: Platform,
): Promise<VerifyTargets> {
  const absolute = path.resolve(repoRoot, appDir);
  const rel = (f: string): string => path.relative(repoRoot, f).split(path.sep).join("/");
  checkAppFolder(appDir, repoRoot);
  const files = await manifestFiles(absolute);
  const manifests: Array<Manifest & { file: string; kustomizeNamespace?: string }> = [];
  for (const { file, kustomizeNamespace } of files) {
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) {
      if (doc.errors.length > 0) {
        throw new TargetError(
          `${rel(file)}: invalid YAML: ${doc.errors[0]?.message.split("\n")[0]}`,
          "run `haos-tasks validate`",
        );
      }
      let value: Manifest | null;
      try {
        value = doc.toJS() as Manifest | null;
      } catch (error) {
        throw new TargetError(
          `${rel(file)}: invalid YAML: ${conversionError(doc, error).message}`,
          "run `haos-tasks validate` for the line",
        );
      }
      if (value && typeof value === "object")
        manifests.push({ ...value, file: rel(file), ...(kustomizeNamespace ? { kustomizeNamespace } : {}) });
    }
  }
  const group = (m: Manifest): string => (m.apiVersion ?? "").split("/")[0] ?? "";
  const fluxKustomizations = manifests.filter(
    (m) => m.kind === "Kustomization" && group(m) === "kustomize.toolkit.fluxcd.io",
  );
  const appPath = rel(absolute);
  const matching = fluxKustomizations.filter((k) => normalisePath(String(k.spec?.path ?? "")) === appPath);
  const kustomization =
    matching.length === 1 ? matching[0] : fluxKustomizations.length === 1 ? fluxKustomizations[0] : undefined;
  if (!kustomization?.metadata?.name) {
    throw new TargetError(
      `${appPath}: ${fluxKustomizations.length === 0 ? "no" : "more than one"} Flux Kustomization (kustomize.toolkit.fluxcd.io) applies this folder`,
      `list exactly one Flux Kustomization with spec.path: ./${appPath} in ${appPath}/kustomization.yaml`,
    );
  }
  const fluxNamespace = kustomization.metadata.namespace ?? platform.cluster.fluxNamespace;
  const sourceRef = (kustomization.spec?.sourceRef ?? {}) as {
    kind?: string;
    name?: string;
    namespace?: string;
  };
  if (sourceRef.kind !== "GitRepository" || !sourceRef.name) {
    throw new TargetError(
      `${kustomization.file}: Kustomization ${kustomization.metadata.name} has sourceRef kind '${sourceRef.kind ?? "(none)"}'; verify follows commits of a GitRepository`,
      "set spec.sourceRef to {kind: GitRepository, name: <the repository's GitRepository>}",
    );
  }
  // As Flux applies them: its targetNamespace overrides everything, kustomize's `namespace:`
  // overrides the manifest's own, and only an object without any lands in the default.
  const targetNamespace =
    typeof kustomization.spec?.targetNamespace === "string" && kustomization.spec.targetNamespace
      ? kustomization.spec.targetNamespace
      : undefined;
  const appNamespace = (m: (typeof manifests)[number]): string =>
    targetNamespace ?? m.kustomizeNamespace ?? m.metadata?.namespace ?? platform.cluster.tenantNamespace;
  const apps = (kind: string): typeof manifests =>
    manifests.filter((m) => m.kind === kind && group(m) === "apps.cozystack.io" && m.metadata?.name);
  const disks = apps("VMDisk").map((m) => {
    const app = { namespace: appNamespace(m), name: m.metadata?.name ?? "" };
    return { app, rendered: `${releasePrefix.disk}${app.name}`, ...specOf(m) };
  });
  const instances = apps("VMInstance").map((m) => {
    const app = { namespace: appNamespace(m), name: m.metadata?.name ?? "" };
    const wholeIp = m.spec?.external === true && m.spec?.externalMethod === "WholeIP";
    return { app, rendered: `${releasePrefix.instance}${app.name}`, wholeIp, ...specOf(m) };
  });
  if (instances.length === 0) {
    throw new TargetError(
      `${appPath}: no VMInstance (apps.cozystack.io) among the manifests ${appPath}/kustomization.yaml lists`,
      "add the VMInstance manifest to kustomization.yaml resources, or pass the right --app",
    );
  }
  const underlay = platform.network.underlay;
  return {
    gitRepository: { namespace: sourceRef.namespace ?? fluxNamespace, name: sourceRef.name },
    kustomization: {
      namespace: fluxNamespace,
      name: kustomization.metadata.name,
      wait: kustomization.spec?.wait === true,
    },
    disks,
    instances,
    expectedWholeIp: platform.network.expectedWholeIp,
    ...(underlay?.enabled
      ? {
          underlay: {
            interfaceName: underlay.attachment.split("/").pop() ?? underlay.attachment,
            cidr: platform.network.lan.cidr,
          },
        }
      : {}),
    files: files.map((f) => rel(f.file)),
  };
}

function normalisePath(p: string): string {
  return p.replace(/^\.\//, "").replace(/\/$/, "");
}
