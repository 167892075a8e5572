import type { Finding, Severity } from "../findings.ts";

/** What a rule checks and how loud it is by default; `.haos-tasks.yaml` may change the level. */
export interface RuleInfo {
  id: string;
  severity: Severity;
  description: string;
  /**
   * A platform rule: it reads the platform.yaml that applies to an object, and is off where none
   * does (platform/missing names these).
   */
  platform?: true;
}

const rule = (id: string, severity: Severity, description: string, kind?: "platform"): RuleInfo => ({
  id,
  severity,
  description,
  ...(kind === "platform" ? { platform: true as const } : {}),
});

/**
 * Every rule registers here, as one row of this catalog (its module reports findings under the
 * id: lint/*.ts, lint/platform/*.ts, validate/*.ts). Nothing here imports a rule's module.
 */
/** Every rule validate can report, in the order `--help` lists them. */
export const ruleCatalog: readonly RuleInfo[] = [
  rule("yaml/syntax", "error", "the file is not valid YAML"),
  rule(
    "yaml/duplicate-key",
    "error",
    "a mapping repeats a key: kustomize, and so Flux, fails the whole build (the build failure is reported too)",
  ),
  rule("yaml/tab", "error", "tab characters in indentation"),
  rule(
    "yaml/indentation",
    "warning",
    "a nested block is not indented by the configured step (the YAML means the same: a warning)",
  ),
  rule("yaml/trailing-space", "warning", "spaces or tabs at the end of a line"),
  rule("yaml/document-start", "warning", "`---` required or forbidden at the start of a file (config)"),
  rule("yaml/document-end", "warning", "`...` document end markers (kubectl and Flux do not need them)"),
  rule(
    "yaml/truthy",
    "warning",
    "unquoted YAML 1.1 booleans (yes/no/on/off/y/n): kustomize and Flux apply the string they spell, YAML 1.1 tools read a boolean (a boolean field still fails its schema)",
  ),
  rule("yaml/empty-document", "warning", "a document or file with no content"),
  rule("lint/disable-comment", "warning", "a disable comment names an unknown rule"),
  rule("build/kustomize", "error", "kustomize (as Flux builds it) fails for a kustomization"),
  rule(
    "manifest/not-an-object",
    "error",
    "a document meant as a Kubernetes object lacks apiVersion, kind or metadata.name",
  ),
  rule("references/missing-resource", "error", "a kustomization lists a path that does not exist"),
  rule(
    "references/unlisted-file",
    "warning",
    "a manifest in an app folder no kustomization lists (Flux never applies it)",
  ),
  rule(
    "references/flux-path",
    "error",
    "a Flux Kustomization's spec.path does not exist (checked when its source is this repository)",
  ),
  rule("references/source-ref", "error", "a Flux sourceRef names no object in the repository or config"),
  rule("references/depends-on", "error", "a Flux dependsOn names no object in the repository or config"),
  rule("references/duplicate-resource", "error", "two objects with the same kind, namespace and name"),
  rule(
    "schema/missing",
    "warning",
    "no schema source has the kind: once per kind (an error under --strict); add a source or list it in validate.kindsWithoutSchema",
  ),
  rule(
    "schema/source",
    "warning",
    "a schema location could not be read (network, path), or resolved none of the kinds asked of it (a missing folder, a folder without its {{…}} template)",
  ),
  rule("schema/strict-root", "info", "--strict closed the open root of external schemas"),
  rule("config/unmatched", "warning", "a validate.kindsWithoutSchema entry matches no object"),
  rule(
    "flux/unresolved-substitution",
    "info",
    "fields using a postBuild variable that cannot be resolved offline are not schema-checked",
  ),
  rule("flux/substitution", "error", "Flux's postBuild variable substitution fails on an object"),
  rule(
    "flux/foreign-source",
    "info",
    "a Flux source that is not this checkout (another repository or branch, an artifact no folder here is pushed as): its Kustomizations are not built",
  ),
  rule(
    "flux/resourceset",
    "info",
    "a flux-operator ResourceSet: the objects it generates are not checked themselves (its Kustomizations' folders are built), or cannot be known offline (provider inputs, resourcesTemplate, other template functions)",
  ),
  rule("yaml/encoding", "error", "a .yaml file that is binary or not UTF-8"),
  rule(
    "yaml/limits",
    "error",
    "a file over validate's input limits (alias expansions, nesting depth, size): neither built nor checked",
  ),
  rule("manifest/too-large", "error", "an object over the 1 MiB the API server stores (etcd: 1.5 MiB)"),
  rule("references/symlink", "warning", "a symlink that leaves the repository or loops is not followed"),
  rule("platform/missing", "info", "a Flux app without platform.yaml: its platform rules are off"),
  rule("schema/invalid", "error", "the object does not match its schema (kubeconform -strict)"),
  rule(
    "schema/additional-property",
    "error",
    "a field the schema does not know (a typo, or the wrong version)",
  ),
  rule("schema/error", "error", "kubeconform could not validate the object"),
  rule(
    "cozystack/instance-profile",
    "error",
    "instanceProfile names no preference in the repo or CozyStack",
    "platform",
  ),
  rule(
    "cozystack/instance-type",
    "error",
    "instanceType names no instancetype in the repo or CozyStack",
    "platform",
  ),
  rule("cozystack/vm-disk", "error", "a VMInstance disk names no VMDisk", "platform"),
  rule(
    "cozystack/run-strategy",
    "error",
    "`running`/`runStrategy` spelled for the other CozyStack line",
    "platform",
  ),
  rule(
    "cozystack/networks",
    "error",
    "`subnets`/`networks` spelled for the other CozyStack line",
    "platform",
  ),
  rule("kubevirt/efi", "error", "the HAOS preference must prefer EFI with secure boot off", "platform"),
  rule("platform/declaration", "error", "platform.yaml cannot be read (platform rules and schemas need it)"),
  rule("platform/pinned-url", "error", "a download URL is not pinned to an exact version", "platform"),
  rule("kube-ovn/gateway", "error", "a Subnet gateway outside its CIDR", "platform"),
  rule(
    "kube-ovn/exclude-ips",
    "error",
    "Subnet excludeIps miss node IPs, the VIP, the gateway or the pool",
    "platform",
  ),
  rule(
    "flux/health-check-exprs",
    "warning",
    "wait: true on apps.cozystack.io kinds without healthCheckExprs",
  ),
  rule(
    "flux/prune-protection",
    "error",
    "a pre-existing namespace in the build is not protected from pruning",
    "platform",
  ),
  rule("helm/render", "error", "a HelmRelease's (or CozyStack app's) chart fails to render with its values"),
  rule("helm/values-schema", "error", "a value the chart's values.schema.json rejects"),
  rule(
    "helm/values-from",
    "error",
    "a HelmRelease valuesFrom reference cannot be applied (missing key, bad YAML)",
  ),
  rule("helm/post-render", "error", "a HelmRelease postRenderers patch cannot be applied"),
  rule(
    "helm/chart-unavailable",
    "warning",
    "a chart cannot be had (source outside the repository, registry unreachable, offline cache miss): its output is not checked",
  ),
  rule(
    "helm/values-unavailable",
    "info",
    "a valuesFrom ConfigMap/Secret is not in the repository: the release is rendered without it or not at all",
  ),
  rule(
    "kyverno/anchor",
    "error",
    "a Kyverno mutate rule's (name) anchor or foreach precondition on {{ element.name }} matches no list item of the object it targets (Kyverno skips it silently)",
  ),
  rule(
    "kyverno/crd-list-patch",
    "warning",
    "a Kyverno patchStrategicMerge anchors a list item of a custom resource: Kyverno replaces the whole list (use foreach + patchesJson6902)",
  ),
  rule("deprecated/api-version", "warning", "a deprecated or removed apiVersion"),
  rule("deprecated/field", "warning", "a deprecated field (e.g. Kyverno spec.validationFailureAction)"),
  rule(
    "secrets/plaintext-credential",
    "error",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux syntax, printed as is
    "a GitHub token or private key in a manifest in plaintext or base64 (SOPS-encrypted values and template references such as {{ .KEY }} or ${VAR} pass)",
  ),
  rule(
    "arc/runner-service-account",
    "error",
    "a runner scale set's pods use a ServiceAccount no manifest defines in the namespace they run in",
  ),
];

const byId = new Map(ruleCatalog.map((r) => [r.id, r]));

/** The rule's registry entry, if the id is known. */
export function ruleInfo(id: string): RuleInfo | undefined {
  return byId.get(id);
}

/**
 * The platform rules (catalog rows marked "platform"), in catalog order; a family whose rules are
 * all platform rules, and more than one, is named once as `family/*`.
 */
export function platformRuleIds(): string[] {
  const families = new Map<string, RuleInfo[]>();
  for (const r of ruleCatalog) {
    const family = r.id.slice(0, r.id.indexOf("/"));
    families.set(family, [...(families.get(family) ?? []), r]);
  }
  const out: string[] = [];
  for (const r of ruleCatalog) {
    if (!r.platform) continue;
    const family = r.id.slice(0, r.id.indexOf("/"));
    const members = families.get(family) ?? [];
    const whole = members.length > 1 && members.every((m) => m.platform);
    const name = whole ? `${family}/*` : r.id;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** A Finding for a rule at its default severity. */
export function finding(
  id: string,
  at: { file?: string; line?: number; column?: number },
  message: string,
  hint?: string,
): Finding {
  const severity = byId.get(id)?.severity ?? "error";
  return { severity, rule: id, message, ...at, ...(hint ? { hint } : {}) };
}
