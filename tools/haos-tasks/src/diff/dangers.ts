import { isDeepStrictEqual } from "node:util";

/**
 * Danger notes: the changes a reviewer must not miss, computed from the rendered objects of base
 * and head (pure functions: objects in, notes out). Each names the object, the field, why it
 * matters and what to do.
 */
export type DangerCode =
  | "immutable-field"
  | "data-loss"
  | "re-import"
  | "vm-restart"
  | "rbac-widened"
  | "flux-policy"
  | "render-failure";

export interface Danger {
  code: DangerCode;
  /** `Kind/namespace/name` (`Kind/name` when cluster-scoped). */
  object: string;
  /** The owner that renders it (Flux Kustomization, HelmRelease or kustomization root). */
  owner?: string;
  /** Dotted path of the field, `` when the whole object. */
  field: string;
  /** What happens and why. */
  message: string;
  /** What to do. */
  hint: string;
}

export type KubeObject = Record<string, unknown>;

export interface DangerContext {
  /**
   * Whether removing an object from the owner deletes it in the cluster: a Flux Kustomization with
   * `prune: true`, a HelmRelease (Helm deletes what a chart no longer renders).
   */
  prunes: boolean;
  owner?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function get(object: unknown, path: string): unknown {
  let current = object;
  for (const segment of path.split(".")) {
    if (!isRecord(current)) return undefined;
    current = current[segment];
  }
  return current;
}

const group = (apiVersion: unknown) => {
  const text = String(apiVersion ?? "");
  return text.includes("/") ? text.slice(0, text.lastIndexOf("/")) : "";
};

/** `Kind/namespace/name` of an object. */
export function objectName(object: KubeObject): string {
  const ns = get(object, "metadata.namespace");
  const name = String(get(object, "metadata.name") ?? "");
  return typeof ns === "string" && ns !== "" ? `${object.kind}/${ns}/${name}` : `${object.kind}/${name}`;
}

const is = (object: KubeObject, apiGroup: string, kind: string) =>
  object.kind === kind && group(object.apiVersion) === apiGroup;

const changed = (base: KubeObject, head: KubeObject, path: string) =>
  !isDeepStrictEqual(get(base, path) ?? null, get(head, path) ?? null);

/** Kubernetes quantities (`32Gi`, `500M`, `1.5e3`) as bytes, for a size comparison. */
export function quantityBytes(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const match = /^([0-9.]+(?:[eE][-+]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$/.exec(value.trim());
  if (!match) return undefined;
  const binary: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
  };
  const decimal: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
  };
  const unit = match[2] ?? "";
  return Number(match[1]) * (binary[unit] ?? decimal[unit] ?? 1);
}

function note(
  code: DangerCode,
  object: KubeObject,
  field: string,
  message: string,
  hint: string,
  context: DangerContext,
): Danger {
  return {
    code,
    object: objectName(object),
    ...(context.owner ? { owner: context.owner } : {}),
    field,
    message,
    hint,
  };
}

const recreate = (what: string) =>
  `delete and recreate the ${what} in a planned step (or give it a new name), or annotate the Flux Kustomization's object with kustomize.toolkit.fluxcd.io/force: enabled so Flux recreates it`;

/** Fields the API server refuses to change: Flux's apply fails until the object is recreated. */
function immutableFields(base: KubeObject, head: KubeObject, context: DangerContext): Danger[] {
  const out: Danger[] = [];
  const add = (field: string, why: string, hint = recreate(String(head.kind))) => {
    if (changed(base, head, field)) out.push(note("immutable-field", head, field, why, hint, context));
  };
  const workload = (kind: string) => is(head, "apps", kind) && is(base, "apps", kind);
  if (workload("Deployment") || workload("DaemonSet") || workload("ReplicaSet")) {
    add(
      "spec.selector",
      `a ${head.kind}'s spec.selector is immutable (apps/v1): the apply fails and the old pods keep running`,
      `keep the selector and change only the template labels, or recreate the ${head.kind} under a new name`,
    );
  }
  if (workload("StatefulSet")) {
    const why = (field: string) =>
      `a StatefulSet's ${field} is immutable (only replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy and minReadySeconds may change): the apply fails`;
    add("spec.selector", why("spec.selector"));
    add(
      "spec.volumeClaimTemplates",
      why("spec.volumeClaimTemplates"),
      "delete the StatefulSet with --cascade=orphan (pods and PVCs stay), then let Flux apply the new one; resize the existing PVCs themselves",
    );
    add("spec.serviceName", why("spec.serviceName"));
    add("spec.podManagementPolicy", why("spec.podManagementPolicy"));
  }
  if (is(head, "", "PersistentVolumeClaim") && is(base, "", "PersistentVolumeClaim")) {
    add(
      "spec.storageClassName",
      "a bound PVC's storageClassName cannot change: the apply fails, and a new claim would be a new, empty volume",
      "migrate the data to a new PVC (e.g. a VolumeSnapshot restore or a copy job), then switch the workload over",
    );
    add("spec.accessModes", "a PVC's accessModes are immutable once bound: the apply fails", recreate("PVC"));
    add("spec.volumeMode", "a PVC's volumeMode is immutable: the apply fails", recreate("PVC"));
    const before = quantityBytes(get(base, "spec.resources.requests.storage"));
    const after = quantityBytes(get(head, "spec.resources.requests.storage"));
    if (before !== undefined && after !== undefined && after < before) {
      out.push(
        note(
          "immutable-field",
          head,
          "spec.resources.requests.storage",
          `a PVC cannot shrink (${String(get(base, "spec.resources.requests.storage"))} → ${String(get(head, "spec.resources.requests.storage"))}): the apply fails`,
          "keep the size (volumes only grow), or migrate the data to a new, smaller PVC",
          context,
        ),
      );
    }
  }
  if (is(head, "", "Service") && is(base, "", "Service")) {
    const ipBefore = get(base, "spec.clusterIP");
    const ipAfter = get(head, "spec.clusterIP");
    const typeAfter = get(head, "spec.type");
    if (typeAfter === "ExternalName" && get(base, "spec.type") !== "ExternalName") {
      out.push(
        note(
          "immutable-field",
          head,
          "spec.type",
          "a Service becoming ExternalName must drop its clusterIP: with a clusterIP kept in the manifest (or set by the cluster and applied server-side) the apply fails",
          "remove spec.clusterIP/clusterIPs from the manifest, or create the ExternalName Service under a new name",
          context,
        ),
      );
    } else if (
      // Dropped from the manifest, the allocated address stays (server-side apply): only a
      // different address fails.
      typeof ipBefore === "string" &&
      ipBefore !== "" &&
      typeof ipAfter === "string" &&
      ipAfter !== "" &&
      ipAfter !== ipBefore
    ) {
      out.push(
        note(
          "immutable-field",
          head,
          "spec.clusterIP",
          `a Service's clusterIP is immutable (${ipBefore} → ${ipAfter}): the apply fails`,
          recreate("Service"),
          context,
        ),
      );
    }
  }
  if (is(head, "batch", "Job") && is(base, "batch", "Job")) {
    const why = (field: string) =>
      `a Job's ${field} is immutable: the apply fails (a finished Job is not re-run by a change either)`;
    add(
      "spec.template",
      why("spec.template"),
      "give the Job a new name per change (e.g. a hash suffix), or set Flux's force: true on its Kustomization so the Job is recreated",
    );
    add("spec.selector", why("spec.selector"));
  }
  if (is(head, "apps.cozystack.io", "VMDisk") && is(base, "apps.cozystack.io", "VMDisk")) {
    add(
      "spec.storageClass",
      "a VMDisk's storage class is its PVC's storageClassName, which cannot change: the release fails to upgrade",
      "create a new VMDisk with the new class and copy the disk, then switch the VMInstance's disks over",
    );
    const before = quantityBytes(get(base, "spec.storage"));
    const after = quantityBytes(get(head, "spec.storage"));
    if (before !== undefined && after !== undefined && after < before) {
      out.push(
        note(
          "immutable-field",
          head,
          "spec.storage",
          `a VMDisk cannot shrink (${String(get(base, "spec.storage"))} → ${String(get(head, "spec.storage"))}): its PVC refuses a smaller size`,
          "keep the size (disks only grow)",
          context,
        ),
      );
    }
  }
  return out;
}

/** The kinds whose deletion deletes data: what a pruning owner deletes when they leave it. */
const dataKinds: { group: string; kind: string; what: string }[] = [
  {
    group: "",
    kind: "PersistentVolumeClaim",
    what: "the volume and its data (with a Delete reclaim policy)",
  },
  { group: "", kind: "PersistentVolume", what: "the volume (with a Delete reclaim policy)" },
  { group: "", kind: "Namespace", what: "every object in the namespace, PVCs included" },
  {
    group: "apiextensions.k8s.io",
    kind: "CustomResourceDefinition",
    what: "every custom resource of the kind",
  },
  { group: "apps.cozystack.io", kind: "VMDisk", what: "the VM disk (its DataVolume and PVC)" },
  { group: "cdi.kubevirt.io", kind: "DataVolume", what: "the imported disk and its PVC" },
];

function keptOnRemoval(object: KubeObject): string | undefined {
  const annotations = get(object, "metadata.annotations");
  const labels = get(object, "metadata.labels");
  if (isRecord(annotations) && annotations["kustomize.toolkit.fluxcd.io/prune"] === "disabled")
    return "kustomize.toolkit.fluxcd.io/prune: disabled";
  if (isRecord(labels) && labels["kustomize.toolkit.fluxcd.io/prune"] === "disabled")
    return "kustomize.toolkit.fluxcd.io/prune: disabled";
  if (isRecord(annotations) && annotations["helm.sh/resource-policy"] === "keep")
    return "helm.sh/resource-policy: keep";
  return undefined;
}

/** An object removed from a pruning owner is deleted in the cluster: data kinds lose data. */
function dataLoss(base: KubeObject, context: DangerContext): Danger[] {
  const kind = dataKinds.find((k) => is(base, k.group, k.kind));
  if (!kind || !context.prunes || keptOnRemoval(base)) return [];
  return [
    note(
      "data-loss",
      base,
      "",
      `removed from an owner that prunes: Flux deletes the ${base.kind}, and with it ${kind.what}`,
      "if the data must stay, annotate the object kustomize.toolkit.fluxcd.io/prune: disabled in a commit before removing it (or back it up first)",
      context,
    ),
  ];
}

/** A disk whose source changes is imported again: the VM's disk is replaced by the new image. */
function reImport(base: KubeObject, head: KubeObject, context: DangerContext): Danger[] {
  const out: Danger[] = [];
  if (is(head, "apps.cozystack.io", "VMDisk") && is(base, "apps.cozystack.io", "VMDisk")) {
    if (changed(base, head, "spec.source"))
      out.push(
        note(
          "re-import",
          head,
          "spec.source",
          "a VMDisk's source changed: CozyStack re-imports the disk, replacing what the VM wrote to it",
          "if the VM's data on this disk must stay, do not change the source of a disk in use: create a new VMDisk for the new image",
          context,
        ),
      );
  }
  if (is(head, "cdi.kubevirt.io", "DataVolume") && is(base, "cdi.kubevirt.io", "DataVolume")) {
    for (const field of ["spec.source", "spec.sourceRef"]) {
      if (changed(base, head, field))
        out.push(
          note(
            "re-import",
            head,
            field,
            "a DataVolume's source changed: CDI imports the disk again (or the apply fails on the immutable spec)",
            "create a new DataVolume for the new source instead of changing this one",
            context,
          ),
        );
    }
  }
  return out;
}

/** Leaf paths where two values differ (arrays and scalars compared whole). */
function differingPaths(a: unknown, b: unknown, prefix: string): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (isRecord(a) && isRecord(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .flatMap((key) => differingPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key));
  }
  return [prefix];
}

/** VMInstance fields that do not touch the VM itself (its Service) */
const vmInstanceLive = new Set(["external", "externalMethod", "externalPorts"]);

/** Changes that restart (or stop/start) a VM: KubeVirt applies them on the next boot. */
function vmRestart(base: KubeObject, head: KubeObject, context: DangerContext): Danger[] {
  const out: Danger[] = [];
  const restart = (field: string, message: string, hint: string) =>
    out.push(note("vm-restart", head, field, message, hint, context));
  const plan = "merge when a restart of the VM is acceptable (or schedule it), and watch it come back";
  if (is(head, "apps.cozystack.io", "VMInstance") && is(base, "apps.cozystack.io", "VMInstance")) {
    const before = isRecord(base.spec) ? base.spec : {};
    const after = isRecord(head.spec) ? head.spec : {};
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      if (vmInstanceLive.has(key) || isDeepStrictEqual(before[key], after[key])) continue;
      if (key === "runStrategy" || key === "running") {
        restart(
          `spec.${key}`,
          `the run strategy changes (${String(before[key] ?? "unset")} → ${String(after[key] ?? "unset")}): the VM is stopped or started`,
          plan,
        );
      } else {
        restart(
          `spec.${key}`,
          `spec.${key} changes the VirtualMachine CozyStack renders: KubeVirt restarts the VM to apply it`,
          plan,
        );
      }
    }
  }
  if (is(head, "kubevirt.io", "VirtualMachine") && is(base, "kubevirt.io", "VirtualMachine")) {
    for (const field of ["spec.runStrategy", "spec.running"]) {
      if (changed(base, head, field))
        restart(
          field,
          `the run strategy changes (${String(get(base, field) ?? "unset")} → ${String(get(head, field) ?? "unset")}): the VM is stopped or started`,
          plan,
        );
    }
    const fields = [
      ...differingPaths(get(base, "spec.template"), get(head, "spec.template"), "spec.template"),
      ...["spec.instancetype", "spec.preference", "spec.dataVolumeTemplates"].filter((f) =>
        changed(base, head, f),
      ),
    ];
    if (fields.length > 0) {
      const shown =
        fields.slice(0, 5).join(", ") + (fields.length > 5 ? `, and ${fields.length - 5} more` : "");
      restart(
        fields[0] ?? "spec.template",
        `the VM's template changes (${shown}): KubeVirt marks it RestartRequired and the change applies only after a restart`,
        plan,
      );
    }
  }
  return out;
}

const rbacKinds = ["Role", "ClusterRole"];
const bindingKinds = ["RoleBinding", "ClusterRoleBinding"];

/** Every (apiGroup, resource, verb) a Role grants, resourceNames and URLs included. */
function grants(role: KubeObject | undefined): Set<string> {
  const out = new Set<string>();
  const rules = role ? get(role, "rules") : undefined;
  if (!Array.isArray(rules)) return out;
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  for (const rule of rules) {
    const verbs = list(get(rule, "verbs"));
    const urls = list(get(rule, "nonResourceURLs"));
    for (const verb of verbs) for (const url of urls) out.add(`url ${url} ${verb}`);
    const groups = list(get(rule, "apiGroups"));
    const resources = list(get(rule, "resources"));
    const names = list(get(rule, "resourceNames"));
    for (const g of groups)
      for (const r of resources)
        for (const verb of verbs) {
          if (names.length === 0) out.add(`${g === "" ? "core" : g} ${r} ${verb}`);
          else for (const n of names) out.add(`${g === "" ? "core" : g} ${r}/${n} ${verb}`);
        }
  }
  return out;
}

/** A grant is covered when the other set has it, or grants it through a `*`. */
function covered(grant: string, set: ReadonlySet<string>): boolean {
  if (set.has(grant)) return true;
  const [g = "", r = "", v = ""] = grant.split(" ");
  const resource = r.split("/")[0] ?? r;
  for (const gg of [g, "*"])
    for (const rr of [r, resource, "*"])
      for (const vv of [v, "*"]) if (set.has(`${gg} ${rr} ${vv}`)) return true;
  return false;
}

/** New verbs, resources or `*` in a Role/ClusterRole; new subjects or a new role in a binding. */
function rbacWidened(base: KubeObject | undefined, head: KubeObject, context: DangerContext): Danger[] {
  const out: Danger[] = [];
  if (rbacKinds.includes(String(head.kind)) && group(head.apiVersion) === "rbac.authorization.k8s.io") {
    const before = grants(base);
    const added = [...grants(head)].filter((g) => !covered(g, before));
    const wildcard = added.filter((g) => g.split(" ").some((part) => part === "*" || part.endsWith("/*")));
    // A new role is reported when it grants `*`; a changed one for every new grant.
    const reported = base ? added : wildcard;
    if (reported.length > 0) {
      const shown =
        reported.slice(0, 6).join("; ") + (reported.length > 6 ? `; and ${reported.length - 6} more` : "");
      out.push(
        note(
          "rbac-widened",
          head,
          "rules",
          `${base ? "grants more" : "a new role grants"}${wildcard.length > 0 ? " (with a wildcard)" : ""}: ${shown} (group resource verb)`,
          "grant only the verbs and resources the workload needs; name them instead of `*`",
          context,
        ),
      );
    }
    if (
      base &&
      isRecord(head.aggregationRule) &&
      !isDeepStrictEqual(base.aggregationRule, head.aggregationRule)
    ) {
      out.push(
        note(
          "rbac-widened",
          head,
          "aggregationRule",
          "the aggregation rule changes: the role gathers the rules of every ClusterRole it selects",
          "check which ClusterRoles the new selector matches",
          context,
        ),
      );
    }
  }
  if (
    bindingKinds.includes(String(head.kind)) &&
    group(head.apiVersion) === "rbac.authorization.k8s.io" &&
    base
  ) {
    const key = (s: unknown) =>
      `${String(get(s, "kind"))}/${String(get(s, "namespace") ?? "")}/${String(get(s, "name"))}`;
    const before = new Set((Array.isArray(base.subjects) ? base.subjects : []).map(key));
    const added = (Array.isArray(head.subjects) ? head.subjects : []).map(key).filter((s) => !before.has(s));
    if (added.length > 0)
      out.push(
        note(
          "rbac-widened",
          head,
          "subjects",
          `new subjects get ${String(get(head, "roleRef.kind"))} ${String(get(head, "roleRef.name"))}: ${added.join(", ")}`,
          "check that each new subject needs the role",
          context,
        ),
      );
    if (changed(base, head, "roleRef"))
      out.push(
        note(
          "rbac-widened",
          head,
          "roleRef",
          `the binding now grants ${String(get(head, "roleRef.kind"))} ${String(get(head, "roleRef.name"))} (roleRef is immutable too: the apply fails)`,
          "create a new binding for the new role and remove the old one",
          context,
        ),
      );
  }
  return out;
}

/** A Flux Kustomization's prune/suspend/force flipped: what Flux deletes, applies or recreates changes. */
function fluxPolicy(base: KubeObject, head: KubeObject, context: DangerContext): Danger[] {
  if (
    !is(head, "kustomize.toolkit.fluxcd.io", "Kustomization") ||
    !is(base, "kustomize.toolkit.fluxcd.io", "Kustomization")
  )
    return [];
  const out: Danger[] = [];
  const flag = (field: string) => get(head, `spec.${field}`) === true;
  const was = (field: string) => get(base, `spec.${field}`) === true;
  const why: Record<string, [string, string, string]> = {
    prune: [
      "prune turns on: Flux deletes every object it applied before that is no longer in the path",
      "prune turns off: objects removed from the path stay in the cluster, unmanaged",
      "list what the path no longer renders before merging (flux diff kustomization / this diff's removals)",
    ],
    suspend: [
      "suspend turns on: Flux stops applying this path, later commits included",
      "suspend turns off: Flux applies everything that changed while it was suspended",
      "say in the PR why, and when it is resumed",
    ],
    force: [
      "force turns on: Flux deletes and recreates every object whose apply fails on an immutable field (PVCs included)",
      "force turns off: immutable-field changes fail the apply instead of recreating the object",
      "prefer a planned recreation of the one object over force on the whole path",
    ],
  };
  for (const [field, [on, off, hint]] of Object.entries(why)) {
    if (flag(field) === was(field)) continue;
    out.push(note("flux-policy", head, `spec.${field}`, flag(field) ? on : off, hint, context));
  }
  return out;
}

/**
 * Every danger of one object between base and head (`undefined`: the side does not have it).
 * Added objects are checked for RBAC only; removed ones for data loss.
 */
export function objectDangers(
  base: KubeObject | undefined,
  head: KubeObject | undefined,
  context: DangerContext,
): Danger[] {
  if (base && !head) return dataLoss(base, context);
  if (!head) return [];
  if (!base) return rbacWidened(undefined, head, context);
  if (isDeepStrictEqual(base, head)) return [];
  return [
    ...immutableFields(base, head, context),
    ...reImport(base, head, context),
    ...vmRestart(base, head, context),
    ...rbacWidened(base, head, context),
    ...fluxPolicy(base, head, context),
  ];
}

/** An owner that renders at base but not at head: the PR breaks it (exit 1). */
export function renderFailureDanger(owner: string, message: string): Danger {
  return {
    code: "render-failure",
    object: owner,
    owner,
    field: "",
    message: `does not render at head: ${message}`,
    hint: "fix the error; Flux stops applying this owner (and its other changes) until it renders",
  };
}
