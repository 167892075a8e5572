import type { KubeObject } from "../kube/client.ts";
import { formatRef, type ObjectRef } from "../kube/resources.ts";
import { type ClusterSnapshot, lookup } from "../kube/store.ts";
import { conditionsOf, firstLine } from "./conditions.ts";
import { field, num, text } from "./phases/types.ts";

export interface ConditionRow {
  object: string;
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface EventRow {
  object: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  lastSeen: string;
}

export interface PodRow {
  name: string;
  phase: string;
  ready: string;
  restarts: number;
  /** Why a container waits or ended (CrashLoopBackOff, Error, ImagePullBackOff). */
  reason?: string;
}

/** The summary printed on failure: conditions, events since the push, Flux events, pods. */
export interface Diagnostics {
  conditions: ConditionRow[];
  events: EventRow[];
  fluxEvents: EventRow[];
  pods: PodRow[];
  /** What could not be gathered (a 403 on events, say) — said, not hidden. */
  notes: string[];
}

/** Every condition of the given objects, one row each. */
export function conditionTable(snapshot: ClusterSnapshot, refs: readonly ObjectRef[]): ConditionRow[] {
  const rows: ConditionRow[] = [];
  for (const ref of refs) {
    const object = lookup(snapshot, ref.kind, ref.namespace, ref.name);
    if (!object) {
      rows.push({ object: formatRef(ref), type: "-", status: "absent", reason: "", message: "not found" });
      continue;
    }
    for (const c of conditionsOf(object)) {
      rows.push({
        object: formatRef(ref),
        type: c.type,
        status: c.status,
        reason: c.reason ?? "",
        message: firstLine(c.message ?? "", 160),
      });
    }
  }
  return rows;
}

function eventTime(event: KubeObject): string {
  return (
    text(event, "lastTimestamp") ??
    text(event, "eventTime") ??
    text(event, "firstTimestamp") ??
    event.metadata.creationTimestamp ??
    ""
  );
}

/**
 * Events about the given objects since `sinceMs`, grouped by object, reason and message (counts
 * summed), warnings first, newest first, at most `limit` rows.
 */
export function summariseEvents(
  events: readonly KubeObject[],
  objects: ReadonlySet<string>,
  sinceMs: number,
  limit = 12,
): EventRow[] {
  const groups = new Map<string, EventRow>();
  for (const event of events) {
    const kind = text(event, "involvedObject", "kind") ?? "";
    const ns = text(event, "involvedObject", "namespace") ?? event.metadata.namespace ?? "";
    const name = text(event, "involvedObject", "name") ?? "";
    const object = `${kind}/${ns}/${name}`;
    if (!objects.has(object)) continue;
    const at = eventTime(event);
    if (at && Date.parse(at) < sinceMs) continue;
    const reason = text(event, "reason") ?? "";
    const message = firstLine(text(event, "message") ?? "", 200);
    const key = `${object}\n${reason}\n${message}`;
    const row = groups.get(key) ?? {
      object,
      type: text(event, "type") ?? "Normal",
      reason,
      message,
      count: 0,
      lastSeen: at,
    };
    row.count += num(event, "count") ?? 1;
    if (at > row.lastSeen) row.lastSeen = at;
    groups.set(key, row);
  }
  return [...groups.values()]
    .sort(
      (a, b) =>
        Number(b.type === "Warning") - Number(a.type === "Warning") || b.lastSeen.localeCompare(a.lastSeen),
    )
    .slice(0, limit);
}

/** Flux events that carry the target commit in their revision annotation. */
export function fluxEventsFor(events: readonly KubeObject[], commit: string, limit = 8): EventRow[] {
  const mine = events.filter((e) =>
    Object.entries(e.metadata.annotations ?? {}).some(
      ([k, v]) => k.endsWith("toolkit.fluxcd.io/revision") && v.includes(commit),
    ),
  );
  const objects = new Set(
    mine.map(
      (e) =>
        `${text(e, "involvedObject", "kind")}/${text(e, "involvedObject", "namespace") ?? e.metadata.namespace}/${text(e, "involvedObject", "name")}`,
    ),
  );
  return summariseEvents(mine, objects, 0, limit);
}

interface ContainerStatus {
  restartCount?: number;
  ready?: boolean;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
  lastState?: { terminated?: { reason?: string; message?: string } };
}

/** Importer pods of the DataVolumes and virt-launcher pods of the VMs, one row each. */
export function summarisePods(
  pods: readonly KubeObject[],
  dataVolumes: readonly string[],
  vms: readonly string[],
): PodRow[] {
  const relevant = pods.filter((p) => {
    const name = p.metadata.name;
    const vmLabel = p.metadata.labels?.["vm.kubevirt.io/name"];
    return (
      dataVolumes.some(
        (dv) =>
          name === `importer-${dv}` ||
          name.startsWith(`importer-prime-`) ||
          name.startsWith(`importer-${dv}-`),
      ) ||
      (vmLabel !== undefined && vms.includes(vmLabel)) ||
      vms.some((vm) => name.startsWith(`virt-launcher-${vm}-`))
    );
  });
  return relevant.map((pod) => {
    const statuses = (field(pod, "status", "containerStatuses") as ContainerStatus[] | undefined) ?? [];
    const reason = statuses
      .map((s) => s.state?.waiting?.reason ?? s.state?.terminated?.reason ?? s.lastState?.terminated?.reason)
      .find(Boolean);
    return {
      name: pod.metadata.name,
      phase: text(pod, "status", "phase") ?? "Unknown",
      ready: `${statuses.filter((s) => s.ready).length}/${statuses.length}`,
      restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
      ...(reason ? { reason } : {}),
    };
  });
}
