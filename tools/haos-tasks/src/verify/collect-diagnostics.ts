import type { KubeClient, KubeObject } from "../kube/client.ts";
import { formatRef, type ObjectRef, resourceKinds } from "../kube/resources.ts";
import { type ClusterSnapshot, objectKey } from "../kube/store.ts";
import {
  conditionTable,
  type Diagnostics,
  fluxEventsFor,
  summariseEvents,
  summarisePods,
} from "./diagnostics.ts";
import type { VerifyTargets } from "./targets.ts";

/** Every object the rollout of `targets` involves, in phase order. */
export function involvedObjects(targets: VerifyTargets): ObjectRef[] {
  const refs: ObjectRef[] = [
    { kind: "gitRepository", ...targets.gitRepository },
    { kind: "kustomization", namespace: targets.kustomization.namespace, name: targets.kustomization.name },
  ];
  for (const d of targets.disks) {
    refs.push({ kind: "helmRelease", namespace: d.app.namespace, name: d.rendered });
    refs.push({ kind: "dataVolume", namespace: d.app.namespace, name: d.rendered });
  }
  for (const i of targets.instances) {
    refs.push({ kind: "helmRelease", namespace: i.app.namespace, name: i.rendered });
    refs.push({ kind: "virtualMachine", namespace: i.app.namespace, name: i.rendered });
    refs.push({ kind: "virtualMachineInstance", namespace: i.app.namespace, name: i.rendered });
  }
  return refs;
}

/**
 * Gathers diagnostics after a failure: one events list and one pods list per namespace involved
 * (a handful of requests, once). What cannot be read is noted rather than failing the report.
 */
export async function collectDiagnostics(
  client: KubeClient,
  snapshot: ClusterSnapshot,
  targets: VerifyTargets,
  failureObjects: readonly ObjectRef[],
  target: string,
  sinceMs: number,
): Promise<Diagnostics> {
  const refs = involvedObjects(targets);
  const seen = new Set(refs.map(formatRef));
  for (const ref of failureObjects) if (!seen.has(formatRef(ref))) refs.push(ref);
  const names = new Set(refs.map(formatRef));
  // Events name the app objects and pods too.
  for (const d of targets.disks)
    names
      .add(`VMDisk/${d.app.namespace}/${d.app.name}`)
      .add(`PersistentVolumeClaim/${d.app.namespace}/${d.rendered}`);
  for (const i of targets.instances)
    names.add(`VMInstance/${i.app.namespace}/${i.app.name}`).add(`Service/${i.app.namespace}/${i.rendered}`);
  const notes: string[] = [];
  const events: KubeObject[] = [];
  const pods: KubeObject[] = [];
  const namespaces = [...new Set(refs.map((r) => r.namespace))];
  const appNamespaces = [...new Set([...targets.disks, ...targets.instances].map((t) => t.app.namespace))];
  const attempt = async (
    what: string,
    run: () => Promise<KubeObject[]>,
    into: KubeObject[],
  ): Promise<void> => {
    try {
      into.push(...(await run()));
    } catch (error) {
      notes.push(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  for (const ns of namespaces) {
    await attempt(
      `list events in ${ns}`,
      async () => (await client.list(resourceKinds.event, ns)).items,
      events,
    );
  }
  for (const ns of appNamespaces) {
    await attempt(`list pods in ${ns}`, async () => (await client.list(resourceKinds.pod, ns)).items, pods);
  }
  for (const pod of pods) names.add(`Pod/${pod.metadata.namespace ?? ""}/${pod.metadata.name}`);
  // An object Flux names (a health check's "VMDisk/tenant-root/x") can be of a kind no phase was
  // watching when the run failed: read each such object once, so its conditions are in the table.
  const objects = new Map(snapshot.objects);
  for (const ref of refs) {
    const key = objectKey(ref.kind, ref.namespace, ref.name);
    if (objects.has(key)) continue;
    const read: KubeObject[] = [];
    await attempt(
      `read ${formatRef(ref)}`,
      async () => {
        const object = await client.get(resourceKinds[ref.kind], ref.namespace, ref.name);
        return object ? [object] : [];
      },
      read,
    );
    if (read[0]) objects.set(key, read[0]);
  }
  return {
    conditions: conditionTable({ objects }, refs),
    events: summariseEvents(events, names, sinceMs),
    fluxEvents: fluxEventsFor(events, target),
    pods: summarisePods(
      pods,
      targets.disks.map((d) => d.rendered),
      targets.instances.map((i) => i.rendered),
    ),
    notes,
  };
}
