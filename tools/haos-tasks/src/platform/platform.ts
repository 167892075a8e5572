import { readFile } from "node:fs/promises";
import path from "node:path";
import { HintedError } from "../errors.ts";
import { hasParseErrors, parseSourceFile, pointerPosition, positionAt } from "../manifests/yaml-source.ts";

/** The CozyStack release lines whose VMDisk / VMInstance schemas differ (see PLATFORM.md). */
export type CozystackLine = "v0" | "v1";

export interface PlatformNode {
  name: string;
  ip: string;
  underlayInterface?: string;
}

/** The typed content of an app's platform.yaml. */
export interface Platform {
  name: string;
  /** Repo-relative path of the declaration, for findings. */
  file: string;
  versions: {
    cozystack: string;
    kubernetes: string;
    flux: { sourceController: string; kustomizeController: string; helmController: string };
    kubevirt: string;
    cdi: string;
    kubeOvn: string;
    multus: string;
    kyverno: string;
  };
  cluster: { fluxNamespace: string; tenantNamespace: string };
  network: {
    lan: {
      cidr: string;
      gateway: string;
      vip: string;
      nodes: PlatformNode[];
      /** Kube-OVN range syntax: `a.b.c.d..a.b.c.e`. */
      externalPool: string;
    };
    expectedWholeIp: string;
    underlay?: {
      enabled: boolean;
      providerNetwork: string;
      vlan: string;
      subnet: string;
      /** `<namespace>/<name>` of the NetworkAttachmentDefinition. */
      attachment: string;
      /** VLAN tag of the LAN on the underlay interface; 0 = untagged (access port). */
      vlanId?: number;
      /** The VM's LAN NIC: the MAC Kyverno pins and the address reserved for it. */
      haosNic?: { mac: string; ip: string };
    };
  };
}

export class PlatformError extends HintedError {
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, message: string, hint: string, line?: number) {
    super(`${file}${line ? `:${line}` : ""}: ${message}`, hint);
    this.file = file;
    this.line = line;
  }
}

/** The file name every Flux app uses for its platform declaration. */
export const platformFileName = "platform.yaml";

/** `v1.6.2` → `v1`, `v0.41.11` → `v0`. */
export function cozystackLine(version: string): CozystackLine {
  const m = /^v?(\d+)\./.exec(version);
  if (!m) throw new Error(`not a CozyStack version: ${version}`);
  return m[1] === "0" ? "v0" : "v1";
}

const required = [
  "versions.cozystack",
  "versions.kubernetes",
  "versions.flux.sourceController",
  "versions.flux.kustomizeController",
  "versions.flux.helmController",
  "versions.kubevirt",
  "versions.cdi",
  "versions.kubeOvn",
  "versions.multus",
  "versions.kyverno",
  "cluster.fluxNamespace",
  "cluster.tenantNamespace",
  "network.lan.cidr",
  "network.lan.gateway",
  "network.lan.vip",
  "network.lan.nodes",
  "network.lan.externalPool",
  "network.expectedWholeIp",
] as const;

function get(obj: unknown, dotted: string): unknown {
  return dotted
    .split(".")
    .reduce<unknown>(
      (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}

const unicastLocalMac = /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/;

function checkUnderlay(underlay: Platform["network"]["underlay"], file: string): void {
  if (!underlay) return;
  const vlanId = underlay.vlanId;
  if (vlanId !== undefined && !(Number.isInteger(vlanId) && vlanId >= 0 && vlanId <= 4095)) {
    throw new PlatformError(
      file,
      `spec.network.underlay.vlanId must be an integer 0-4095, got ${String(vlanId)}`,
      "use 0 for an untagged access port, else the LAN's VLAN tag",
    );
  }
  const nic = underlay.haosNic;
  if (nic !== undefined && (typeof nic.mac !== "string" || !unicastLocalMac.test(nic.mac))) {
    throw new PlatformError(
      file,
      `spec.network.underlay.haosNic.mac must be a lower-case locally administered unicast MAC, got ${String(nic.mac)}`,
      'quote it and use the 02:xx:xx:xx:xx:xx form, e.g. "02:48:41:4f:53:01"',
    );
  }
  if (nic !== undefined && typeof nic.ip !== "string") {
    throw new PlatformError(
      file,
      "spec.network.underlay.haosNic.ip is required",
      "add the LAN address reserved for HAOS",
    );
  }
}

/**
 * Parses a platform declaration. `file` is the repo-relative path used in errors.
 * Throws PlatformError naming file:line and the missing or malformed field.
 */
export function parsePlatform(text: string, file: string): Platform {
  // parseSourceFile, not the yaml library directly: its fast path reads this file (every command
  // that checks a platform reads it at start), and a YAML error keeps its position.
  const source = parseSourceFile(text, file);
  const [doc, second] = source.documents;
  const invalid = source.documents.find(hasParseErrors)?.ast.errors[0];
  if (invalid) {
    throw new PlatformError(
      file,
      `invalid YAML: ${invalid.message.split("\n")[0]}`,
      "fix the YAML syntax",
      positionAt(source, invalid.pos[0]).line,
    );
  }
  if (second) {
    throw new PlatformError(
      file,
      "invalid YAML: more than one document",
      "keep the platform declaration as the file's only document",
      second.start.line,
    );
  }
  const root = doc?.value as Record<string, unknown> | null | undefined;
  if (root?.kind !== "Platform") {
    throw new PlatformError(
      file,
      "not a Platform declaration (kind: Platform)",
      "see apps/haos-enigma/platform.yaml",
      1,
    );
  }
  const spec = root.spec;
  for (const key of required) {
    const value = get(spec, key);
    if (value === undefined || value === null || value === "") {
      throw new PlatformError(file, `spec.${key} is required`, `add spec.${key} to the platform declaration`);
    }
  }
  const platform = spec as Omit<Platform, "name" | "file">;
  const nodes = platform.network.lan.nodes;
  if (
    !Array.isArray(nodes) ||
    nodes.some((n) => !n || typeof n.name !== "string" || typeof n.ip !== "string")
  ) {
    throw new PlatformError(
      file,
      "spec.network.lan.nodes must be a list of {name, ip}",
      "list every LAN node with name and ip",
    );
  }
  checkUnderlay(platform.network.underlay, file);
  if (!/^v?\d+\./.test(String(platform.versions.cozystack))) {
    throw new PlatformError(
      file,
      `spec.versions.cozystack is not a CozyStack version: ${String(platform.versions.cozystack)}`,
      "declare the exact release the cluster runs, e.g. v1.6.2 (the schemas and rules follow from it)",
      doc ? pointerPosition(source, doc, "/spec/versions/cozystack").line : undefined,
    );
  }
  const metadata = root.metadata as { name?: string } | undefined;
  return { ...platform, name: metadata?.name ?? path.basename(path.dirname(file)), file };
}

/** Reads `<appDir>/platform.yaml`; `repoRoot` makes the path in findings repo-relative. */
export async function loadPlatform(appDir: string, repoRoot: string): Promise<Platform> {
  const absolute = path.resolve(repoRoot, appDir, platformFileName);
  const rel = path.relative(repoRoot, absolute).split(path.sep).join("/");
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch {
    throw new PlatformError(
      rel,
      "platform declaration not found",
      `create ${rel} (see apps/haos-enigma/platform.yaml)`,
    );
  }
  return parsePlatform(text, rel);
}
