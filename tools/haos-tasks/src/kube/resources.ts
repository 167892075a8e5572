/** The API resources verify reads, and how their URLs are built. */
export interface ResourceKind {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** Every kind the verifier reads, by a short key the phases use. */
export const resourceKinds = {
  gitRepository: {
    group: "source.toolkit.fluxcd.io",
    version: "v1",
    plural: "gitrepositories",
    kind: "GitRepository",
    namespaced: true,
  },
  kustomization: {
    group: "kustomize.toolkit.fluxcd.io",
    version: "v1",
    plural: "kustomizations",
    kind: "Kustomization",
    namespaced: true,
  },
  helmRelease: {
    group: "helm.toolkit.fluxcd.io",
    version: "v2",
    plural: "helmreleases",
    kind: "HelmRelease",
    namespaced: true,
  },
  vmDisk: {
    group: "apps.cozystack.io",
    version: "v1alpha1",
    plural: "vmdisks",
    kind: "VMDisk",
    namespaced: true,
  },
  vmInstance: {
    group: "apps.cozystack.io",
    version: "v1alpha1",
    plural: "vminstances",
    kind: "VMInstance",
    namespaced: true,
  },
  dataVolume: {
    group: "cdi.kubevirt.io",
    version: "v1beta1",
    plural: "datavolumes",
    kind: "DataVolume",
    namespaced: true,
  },
  persistentVolumeClaim: {
    group: "",
    version: "v1",
    plural: "persistentvolumeclaims",
    kind: "PersistentVolumeClaim",
    namespaced: true,
  },
  virtualMachine: {
    group: "kubevirt.io",
    version: "v1",
    plural: "virtualmachines",
    kind: "VirtualMachine",
    namespaced: true,
  },
  virtualMachineInstance: {
    group: "kubevirt.io",
    version: "v1",
    plural: "virtualmachineinstances",
    kind: "VirtualMachineInstance",
    namespaced: true,
  },
  service: { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  pod: { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
  event: { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true },
} as const satisfies Record<string, ResourceKind>;

export type KindKey = keyof typeof resourceKinds;

/**
 * Kinds served by an aggregated API server (cozystack-api) rather than by CRDs: their watch
 * support is not guaranteed, so the verifier polls them.
 */
export const polledGroups: ReadonlySet<string> = new Set(["apps.cozystack.io"]);

/** `/api/v1/namespaces/ns/services` or `/apis/group/version/namespaces/ns/plural[/name]`. */
export function resourcePath(kind: ResourceKind, namespace?: string, name?: string): string {
  const base = kind.group === "" ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
  const ns = kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const tail = name ? `/${encodeURIComponent(name)}` : "";
  return `${base}${ns}/${kind.plural}${tail}`;
}

/** `gitrepositories.source.toolkit.fluxcd.io` (or `services` for the core group), as RBAC names it. */
export function qualifiedResource(kind: ResourceKind): string {
  return kind.group === "" ? kind.plural : `${kind.plural}.${kind.group}`;
}

/** A namespaced object's identity. */
export interface ObjectRef {
  kind: KindKey;
  namespace: string;
  name: string;
}

/** `Kind/namespace/name`, the way Flux names objects in messages. */
export function formatRef(ref: ObjectRef): string {
  return `${resourceKinds[ref.kind].kind}/${ref.namespace}/${ref.name}`;
}
