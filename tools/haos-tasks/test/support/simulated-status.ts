import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { resourceKinds } from "../../src/kube/resources.ts";
import type { TestApiServer } from "./apiserver.ts";
import { workloadMonitorKind } from "./cozystack.ts";
import { KubeWriter } from "./kube-writer.ts";

/**
 * The status the real-Flux verify tests simulate for the workloads of the HAOS app: what
 * components that cannot run on these machines write. GitRepository, Kustomization, HelmRelease
 * and the chart's rendered objects come from the real controllers; the other stand-ins live
 * elsewhere (cozystack-api's VMDisk/VMInstance status in cozystack.ts, ExternalArtifact readiness
 * in flux.ts; the root README lists them all). Shapes follow the upstream status types:
 * - CDI (v1.64 DataVolumeStatus): phase, progress, restartCount, claimName, conditions Bound/Running/
 *   Ready; the import's PVC (CDI creates it, named like the DataVolume) and its Bound status;
 * - KubeVirt (v1.8 VirtualMachineStatus / VirtualMachineInstanceStatus): printableStatus, ready,
 *   created, conditions; the VMI with phase, interfaces[] (name, ipAddress, ipAddresses, mac,
 *   infoSource), guestOSInfo;
 * - cozystack-controller's WorkloadMonitor `status.operational` (+ observed/available replicas);
 * - the LoadBalancer's `status.loadBalancer.ingress[].ip` on a LoadBalancer Service;
 * (the Home Assistant page is `startHomeAssistantPage` in verify-harness.ts).
 * It advances every object one step per poll, so each state is observable.
 */

export interface SimulatedPlatformOptions {
  namespace: string;
  /** Pause between two status writes of one object (ms). */
  stepMs?: number;
  /** The IP the LoadBalancer pool hands out. */
  wholeIp?: string;
  /** The guest's LAN address on the underlay NIC. */
  lanIp?: string;
  /** "fails": the importer keeps restarting with a 404 (CDI: Running=False, restartCount rising). */
  importMode?: "succeeds" | "fails";
}

type Status = "True" | "False" | "Unknown";
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const cdiCondition = (type: string, status: Status, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastHeartbeatTime: now(),
  lastTransitionTime: now(),
});
const kvCondition = (type: string, status: Status, reason?: string, message?: string) => ({
  type,
  status,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
  lastProbeTime: null,
  lastTransitionTime: now(),
});

export class SimulatedPlatform {
  private readonly client: KubeClient;
  /** Creates and deletes (what the controllers it stands in for do; verify's client cannot). */
  private readonly writer: KubeWriter;
  private readonly options: Required<SimulatedPlatformOptions>;
  private readonly steps = new Map<string, { step: number; at: number }>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** When the last simulated status write happened (bench: last write → verify exit). */
  lastWriteAt = 0;
  /** Every write, in order: `Kind/name: what` (a failing test prints it). */
  readonly writes: string[] = [];

  constructor(server: TestApiServer, options: SimulatedPlatformOptions) {
    this.client = new KubeClient(server.adminKubeConfig());
    this.writer = new KubeWriter(server.adminKubeConfig());
    this.options = {
      stepMs: 100,
      wholeIp: "192.168.50.101",
      lanIp: "192.168.50.60",
      importMode: "succeeds",
      ...options,
    };
  }

  set importMode(mode: "succeeds" | "fails") {
    this.options.importMode = mode;
  }

  /** The IP the LoadBalancer pool hands the next Service without one. */
  set wholeIp(ip: string) {
    this.options.wholeIp = ip;
  }

  /**
   * DataVolumes whose import keeps failing whatever importMode says (by name): CDI's importer pod
   * restarts (CrashLoopBackOff), restartCount rises, Running=False with the 404, an Error event.
   */
  readonly failingImports = new Set<string>();
  /** DataVolumes whose import runs but never finishes (ImportInProgress at 12.00%), by name. */
  readonly slowImports = new Set<string>();
  /** VirtualMachines no node fits (by name): the scheduler leaves the virt-launcher pod Pending. */
  readonly unschedulable = new Set<string>();

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.tick();
        } catch {
          // API server restarts: next poll
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** The LoadBalancer takes back every IP it handed out; the next poll assigns them again from the pool. */
  async releaseIps(): Promise<void> {
    for (const svc of (await this.client.list(resourceKinds.service, this.options.namespace)).items) {
      if ((svc.spec as { type?: string }).type !== "LoadBalancer") continue;
      await this.write(
        "service",
        svc.metadata.name,
        { loadBalancer: { ingress: null } },
        "LoadBalancer IP released",
      );
    }
  }

  /** Forgets an object's progress (it was deleted and comes back fresh). */
  forget(prefix: string): void {
    for (const key of [...this.steps.keys()]) if (key.includes(prefix)) this.steps.delete(key);
  }

  /** The next step for `key` when stepMs have passed since the previous one, else undefined. */
  private due(key: string): number | undefined {
    const s = this.steps.get(key);
    if (!s) {
      this.steps.set(key, { step: 0, at: Date.now() });
      return 0;
    }
    if (Date.now() - s.at < this.options.stepMs) return undefined;
    s.step += 1;
    s.at = Date.now();
    return s.step;
  }

  private async write(kind: keyof typeof resourceKinds, name: string, status: unknown, what: string) {
    await this.client.mergePatch(resourceKinds[kind], this.options.namespace, name, { status }, "status");
    this.lastWriteAt = Date.now();
    this.writes.push(`${resourceKinds[kind].kind}/${name}: ${what}`);
  }

  private async tick(): Promise<void> {
    const ns = this.options.namespace;
    const dvs = (await this.client.list(resourceKinds.dataVolume, ns)).items;
    for (const dv of dvs) await this.dataVolume(dv);
    const vms = (await this.client.list(resourceKinds.virtualMachine, ns)).items;
    for (const vm of vms) await this.virtualMachine(vm, dvs);
    await this.collectGarbage(dvs, vms);
    for (const svc of (await this.client.list(resourceKinds.service, ns)).items) {
      const spec = svc.spec as { type?: string };
      const ingress = (svc.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer
        ?.ingress;
      if (spec.type === "LoadBalancer" && !ingress?.length) {
        await this.write(
          "service",
          svc.metadata.name,
          { loadBalancer: { ingress: [{ ip: this.options.wholeIp, ipMode: "VIP" }] } },
          `LoadBalancer IP ${this.options.wholeIp}`,
        );
      }
    }
    for (const monitor of (await this.client.list(workloadMonitorKind, ns)).items) {
      await this.workloadMonitor(monitor, dvs, vms);
    }
  }

  /**
   * What the garbage collector and virt-controller do (no kube-controller-manager runs here): the
   * VMI of a deleted VM, and the PVC and importer pod of a deleted DataVolume, go too.
   */
  private async collectGarbage(dvs: KubeObject[], vms: KubeObject[]): Promise<void> {
    const ns = this.options.namespace;
    const alive = new Set([...dvs, ...vms].map((o) => o.metadata.uid));
    const orphaned = (o: KubeObject) =>
      (
        (o.metadata as { ownerReferences?: Array<{ uid: string; controller?: boolean }> }).ownerReferences ??
        []
      ).some((r) => r.controller && !alive.has(r.uid));
    for (const [kind, items] of [
      ["virtualMachineInstance", (await this.client.list(resourceKinds.virtualMachineInstance, ns)).items],
      ["persistentVolumeClaim", (await this.client.list(resourceKinds.persistentVolumeClaim, ns)).items],
      ["pod", (await this.client.list(resourceKinds.pod, ns)).items],
    ] as const) {
      for (const o of items.filter(orphaned)) {
        await this.writer.delete(resourceKinds[kind], ns, o.metadata.name);
        this.writes.push(`${resourceKinds[kind].kind}/${o.metadata.name}: deleted (owner gone)`);
        for (const key of [...this.steps.keys()])
          if (key.endsWith(`/${o.metadata.uid}`)) this.steps.delete(key);
      }
    }
  }

  /** CDI's importer pod for `dv`, its container in CrashLoopBackOff after `restarts` restarts. */
  private async importerPod(dv: KubeObject, restarts: number): Promise<void> {
    const ns = this.options.namespace;
    const name = `importer-${dv.metadata.name}`;
    if (!(await this.client.get(resourceKinds.pod, ns, name))) {
      await this.writer.create(resourceKinds.pod, ns, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: ns,
          labels: { app: "containerized-data-importer", "cdi.kubevirt.io": "importer" },
          ownerReferences: [
            {
              apiVersion: "cdi.kubevirt.io/v1beta1",
              kind: "DataVolume",
              name: dv.metadata.name,
              uid: dv.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { containers: [{ name: "importer", image: "quay.io/kubevirt/cdi-importer:v1.64.0" }] },
      });
    }
    await this.write(
      "pod",
      name,
      {
        phase: "Running",
        containerStatuses: [
          {
            name: "importer",
            image: "quay.io/kubevirt/cdi-importer:v1.64.0",
            imageID: "",
            ready: false,
            restartCount: restarts,
            started: false,
            state: {
              waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container" },
            },
            lastState: { terminated: { exitCode: 1, reason: "Error" } },
          },
        ],
      },
      `importer CrashLoopBackOff (restart ${restarts})`,
    );
  }

  /** An Event on `object`, as CDI's and KubeVirt's recorders write them. */
  private async event(object: KubeObject, type: "Normal" | "Warning", reason: string, message: string) {
    const stamp = now();
    await this.writer.create(resourceKinds.event, this.options.namespace, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${object.metadata.name}.`, namespace: this.options.namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: this.options.namespace,
        uid: object.metadata.uid,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      source: {
        component:
          object.kind === "DataVolume" ? "datavolume-import-controller" : "virtualmachine-controller",
      },
    });
    this.writes.push(`Event ${object.kind}/${object.metadata.name}: ${reason}`);
  }

  private async dataVolume(dv: KubeObject): Promise<void> {
    const name = dv.metadata.name;
    const phase = (dv.status as { phase?: string } | undefined)?.phase;
    if (phase === "Succeeded") return;
    const step = this.due(`dv/${dv.metadata.uid}`);
    if (step === undefined) return;
    const size =
      (dv.spec as { storage?: { resources?: { requests?: { storage?: string } } } }).storage?.resources
        ?.requests?.storage ?? "5Gi";
    if (step === 0) {
      await this.write(
        "dataVolume",
        name,
        {
          phase: "ImportScheduled",
          progress: "N/A",
          claimName: name,
          conditions: [
            cdiCondition("Bound", "False", "Pending", "PVC vm-disk pending"),
            cdiCondition("Running", "False", "", ""),
            cdiCondition("Ready", "False", "", ""),
          ],
        },
        "ImportScheduled",
      );
      return;
    }
    if (step === 1) {
      // CDI creates the PVC (owned by the DataVolume) and the provisioner binds it.
      const existing = await this.client.get(
        resourceKinds.persistentVolumeClaim,
        this.options.namespace,
        name,
      );
      if (!existing) {
        await this.writer.create(resourceKinds.persistentVolumeClaim, this.options.namespace, {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: {
            name,
            namespace: this.options.namespace,
            labels: { app: "containerized-data-importer" },
            ownerReferences: [
              {
                apiVersion: "cdi.kubevirt.io/v1beta1",
                kind: "DataVolume",
                name,
                uid: dv.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } },
        });
      }
      await this.write(
        "persistentVolumeClaim",
        name,
        { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: size } },
        "Bound",
      );
      return;
    }
    if (this.options.importMode === "fails" || this.failingImports.has(name)) {
      const restarts = step - 1;
      const why =
        "Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found";
      await this.importerPod(dv, restarts);
      if (restarts === 1) await this.event(dv, "Warning", "Error", why);
      await this.write(
        "dataVolume",
        name,
        {
          phase: "ImportInProgress",
          progress: "N/A",
          claimName: name,
          restartCount: restarts,
          conditions: [
            cdiCondition("Bound", "True", "Bound", `PVC ${name} Bound`),
            cdiCondition("Running", "False", "Error", why),
            cdiCondition("Ready", "False", "", ""),
          ],
        },
        `import failing (restart ${restarts})`,
      );
      return;
    }
    const running = step === 2 || this.slowImports.has(name);
    if (running && step > 2) return; // a slow import: still 12.00%
    await this.write(
      "dataVolume",
      name,
      {
        phase: running ? "ImportInProgress" : "Succeeded",
        progress: running ? (this.slowImports.has(name) ? "12.00%" : "45.23%") : "100.0%",
        claimName: name,
        restartCount: 0,
        conditions: [
          cdiCondition("Bound", "True", "Bound", `PVC ${name} Bound`),
          cdiCondition(
            "Running",
            running ? "True" : "False",
            running ? "Pod is running" : "Completed",
            running ? "" : "Import Complete",
          ),
          cdiCondition("Ready", running ? "False" : "True", running ? "TransferRunning" : "", ""),
        ],
      },
      running ? "ImportInProgress 45.23%" : "Succeeded",
    );
  }

  /** virt-controller creates the VM's VirtualMachineInstance (owned by the VM) when it starts it. */
  private async ensureVmi(vm: KubeObject): Promise<void> {
    const name = vm.metadata.name;
    if (await this.client.get(resourceKinds.virtualMachineInstance, this.options.namespace, name)) return;
    await this.writer.create(resourceKinds.virtualMachineInstance, this.options.namespace, {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: {
        name,
        namespace: this.options.namespace,
        ownerReferences: [
          {
            apiVersion: "kubevirt.io/v1",
            kind: "VirtualMachine",
            name,
            uid: vm.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: { domain: { devices: {} } },
    });
  }

  private async virtualMachine(vm: KubeObject, dvs: KubeObject[]): Promise<void> {
    const name = vm.metadata.name;
    const status = vm.status as { ready?: boolean; observedGeneration?: number } | undefined;
    const generation = vm.metadata.generation ?? 1;
    if (status?.ready === true) {
      // virt-controller observes a new (live-updatable) spec of a running VM.
      if (status.observedGeneration !== generation)
        await this.write(
          "virtualMachine",
          name,
          { observedGeneration: generation, desiredGeneration: generation },
          `observedGeneration ${generation}`,
        );
      return;
    }
    const volumes =
      (vm.spec as { template?: { spec?: { volumes?: Array<{ dataVolume?: { name?: string } }> } } }).template
        ?.spec?.volumes ?? [];
    const disksReady = volumes
      .flatMap((v) => (v.dataVolume?.name ? [v.dataVolume.name] : []))
      .every(
        (d) =>
          (dvs.find((dv) => dv.metadata.name === d)?.status as { phase?: string } | undefined)?.phase ===
          "Succeeded",
      );
    if (!disksReady) {
      const key = `vm-wait/${vm.metadata.uid}`;
      if (!this.steps.has(key)) {
        this.steps.set(key, { step: 0, at: Date.now() });
        await this.write(
          "virtualMachine",
          name,
          {
            printableStatus: "Provisioning",
            ready: false,
            conditions: [kvCondition("Ready", "False", "VMINotExists", "VMI does not exist")],
          },
          "Provisioning",
        );
      }
      return;
    }
    const step = this.due(`vm/${vm.metadata.uid}`);
    if (step === undefined) return;
    if (this.unschedulable.has(name)) {
      if (step > 1) return;
      // virt-controller copies the launcher pod's PodScheduled=False/Unschedulable to the VMI and
      // the VM, and shows ErrorUnschedulable; the VMI stays Scheduling.
      const message =
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
      const scheduled = kvCondition("PodScheduled", "False", "Unschedulable", message);
      if (step === 0) {
        await this.ensureVmi(vm);
        await this.write(
          "virtualMachineInstance",
          name,
          { phase: "Scheduling", conditions: [kvCondition("Ready", "False", "PodNotExists", ""), scheduled] },
          "VMI Scheduling (Unschedulable)",
        );
        return;
      }
      await this.write(
        "virtualMachine",
        name,
        {
          printableStatus: "ErrorUnschedulable",
          ready: false,
          created: true,
          conditions: [
            kvCondition("Ready", "False", "GuestNotRunning", "Guest VM is not reported as running"),
            scheduled,
          ],
        },
        "ErrorUnschedulable",
      );
      return;
    }
    if (step === 0) {
      await this.write(
        "virtualMachine",
        name,
        {
          printableStatus: "Starting",
          ready: false,
          created: true,
          conditions: [
            kvCondition("Ready", "False", "GuestNotRunning", "Guest VM is not reported as running"),
          ],
        },
        "Starting",
      );
      return;
    }
    if (step === 1) {
      const networks =
        (vm.spec as { template?: { spec?: { networks?: Array<{ name: string }> } } }).template?.spec
          ?.networks ?? [];
      await this.ensureVmi(vm);
      await this.write(
        "virtualMachineInstance",
        name,
        {
          phase: "Running",
          interfaces: networks.map((n, i) => {
            const ip = n.name === "default" ? "10.244.0.17" : this.options.lanIp;
            return {
              name: n.name,
              ipAddress: ip,
              ipAddresses: [ip],
              mac: i === 0 ? "02:00:00:00:00:01" : "02:48:41:4f:53:01",
              infoSource: "domain, guest-agent",
            };
          }),
          guestOSInfo: { name: "Home Assistant OS", prettyName: "Home Assistant OS 17.0" },
          conditions: [kvCondition("Ready", "True"), kvCondition("AgentConnected", "True")],
        },
        "VMI Running",
      );
      return;
    }
    await this.write(
      "virtualMachine",
      name,
      {
        printableStatus: "Running",
        ready: true,
        created: true,
        observedGeneration: generation,
        desiredGeneration: generation,
        conditions: [kvCondition("Ready", "True"), kvCondition("AgentConnected", "True")],
      },
      "Running",
    );
  }

  private async workloadMonitor(monitor: KubeObject, dvs: KubeObject[], vms: KubeObject[]): Promise<void> {
    if ((monitor.status as { operational?: boolean } | undefined)?.operational === true) return;
    const selector =
      (monitor.spec as { selector?: Record<string, string> }).selector?.["app.kubernetes.io/instance"] ?? "";
    const type = (monitor.spec as { type?: string }).type;
    const ready =
      type === "vm-disk"
        ? (dvs.find((d) => d.metadata.name === selector)?.status as { phase?: string } | undefined)?.phase ===
          "Succeeded"
        : (vms.find((v) => v.metadata.name === selector)?.status as { ready?: boolean } | undefined)
            ?.ready === true;
    const current = (monitor.status as { operational?: boolean } | undefined)?.operational;
    if (current === ready) return;
    await this.client.mergePatch(
      workloadMonitorKind,
      this.options.namespace,
      monitor.metadata.name,
      { status: { operational: ready, observedReplicas: ready ? 1 : 0, availableReplicas: ready ? 1 : 0 } },
      "status",
    );
    this.lastWriteAt = Date.now();
    this.writes.push(`WorkloadMonitor/${monitor.metadata.name}: operational=${ready}`);
  }
}
