import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { loadPlatform, type Platform } from "../../src/platform/platform.ts";
import { isRecord } from "../../src/schemas/convert/types.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import { installAppCrds } from "../support/real-flux-app.ts";

// The HAOS app as Flux would apply it, against a real kube-apiserver 1.34 with the published CRDs
// of the declared platform versions and synthesized CRDs for kinds without one.

const execFileAsync = promisify(execFile);
const appRel = "apps/haos-enigma";
const appDir = path.join(toolsRepoRoot, appRel);

type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

/** `at(obj, "spec", "storage")` without casts at every step. */
function at(value: unknown, ...keys: Array<string | number>): unknown {
  return keys.reduce<unknown>(
    (v, k) => (Array.isArray(v) ? v[Number(k)] : isRecord(v) ? v[String(k)] : undefined),
    value,
  );
}

function set(value: unknown, keys: string[], to: unknown): void {
  const parent = at(value, ...keys.slice(0, -1));
  const last = keys.at(-1);
  if (!isRecord(parent) || last === undefined) throw new Error(`no parent for ${keys.join(".")}`);
  parent[last] = to;
}

const docsOf = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d): d is K8sObject => isRecord(d) && typeof d.kind === "string");

const yamlOf = (objects: unknown[]): string => objects.map((o) => stringify(o)).join("---\n");

describe("apps/haos-enigma on a real API server (published + synthesized CRDs)", () => {
  let server: TestApiServer;
  let platform: Platform;
  let built: string;
  let objects: K8sObject[];
  const find = (kind: string, name: string): K8sObject => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`${kind}/${name} not in the build`);
    return structuredClone(found);
  };
  const apply = (input: string, ...extra: string[]) =>
    server.kubectl(["apply", "--server-side", "--field-manager=kustomize-controller", ...extra, "-f", "-"], {
      input,
    });

  beforeAll(async () => {
    platform = await loadPlatform(appRel, toolsRepoRoot);
    built = (await execFileAsync("kubectl", ["kustomize", appDir], { maxBuffer: 16 * 1024 * 1024 })).stdout;
    objects = docsOf(built);
    server = await startTestApiServer();
    // The same CRDs the real-Flux tests install: every Flux CRD, the published ones of the kinds
    // the app applies, the KubeVirt/CDI/CozyStack kinds synthesized from their pinned OpenAPI.
    await installAppCrds(server, platform);
    // The real cluster has both: Flux's namespace and the CozyStack tenant.
    for (const ns of [platform.cluster.fluxNamespace, platform.cluster.tenantNamespace]) {
      const created = await server.kubectl(["create", "namespace", ns]);
      if (created.exitCode !== 0) throw new Error(created.stderr);
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("builds with kustomize and lists every YAML file of the folder", () => {
    const listed = new Set(
      (at(
        parseAllDocuments(readFileSync(path.join(appDir, "kustomization.yaml"), "utf8"))[0]?.toJS(),
        "resources",
      ) as string[] | undefined) ?? [],
    );
    const yamlFiles = readdirSync(appDir).filter(
      (f) => /\.ya?ml$/.test(f) && !["kustomization.yaml", "platform.yaml", "moon.yml"].includes(f),
    );
    expect(yamlFiles.filter((f) => !listed.has(f))).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining([
        "VMDisk/haos",
        "VMInstance/haos",
        "VirtualMachineClusterPreference/haos",
        "Kustomization/haos-enigma",
        "GitRepository/setup",
        "Subnet/haos-underlay",
        "ProviderNetwork/eno1",
        "Vlan/haos-lan",
        "NetworkAttachmentDefinition/haos-underlay",
        "ClusterPolicy/haos-lan-nic",
        "VMRule/haos",
        "CronJob/haos-snapshot",
      ]),
    );
  });

  it("follows platform.yaml: LAN, reserved addresses, LAN nodes, VLAN, NIC, attachment", () => {
    const lan = platform.network.lan;
    const underlay = platform.network.underlay;
    if (!underlay?.haosNic) throw new Error("platform.yaml declares no underlay NIC");
    const subnet = find("Subnet", underlay.subnet);
    expect(at(subnet, "spec", "cidrBlock")).toBe(lan.cidr);
    expect(at(subnet, "spec", "gateway")).toBe(lan.gateway);
    const excluded = at(subnet, "spec", "excludeIps") as string[];
    for (const ip of [lan.gateway, lan.vip, lan.externalPool, ...lan.nodes.map((n) => n.ip)]) {
      expect(excluded, `excludeIps must hold ${ip}`).toContain(ip);
    }
    expect(excluded).not.toContain(underlay.haosNic.ip);
    const [ns, nad] = underlay.attachment.split("/");
    expect(at(subnet, "spec", "provider")).toBe(`${nad}.${ns}.ovn`);
    expect(at(subnet, "spec", "vlan")).toBe(underlay.vlan);
    expect(at(find("Vlan", underlay.vlan), "spec", "id")).toBe(underlay.vlanId ?? 0);
    expect(at(find("Vlan", underlay.vlan), "spec", "provider")).toBe(underlay.providerNetwork);
    const pn = find("ProviderNetwork", underlay.providerNetwork);
    expect(at(pn, "spec", "nodeSelector", "matchExpressions", 0, "values")).toEqual(
      lan.nodes.filter((n) => n.underlayInterface).map((n) => n.name),
    );
    const nadObj = find("NetworkAttachmentDefinition", String(nad));
    expect(JSON.parse(String(at(nadObj, "spec", "config"))).provider).toBe(`${nad}.${ns}.ovn`);
    expect(at(find("VMInstance", "haos"), "spec", "networks")).toEqual([{ name: nad }]);
    const policyObject = find("ClusterPolicy", "haos-lan-nic");
    const policy = JSON.stringify(policyObject);
    // The MAC goes on by a foreach JSON patch at the haos-underlay interface (Kyverno's strategic
    // merge would replace the VM's whole interface list): each rule's patch adds that MAC.
    const patchTexts: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (isRecord(value))
        for (const [k, v] of Object.entries(value)) {
          if (k === "patchesJson6902" && typeof v === "string") patchTexts.push(v);
          else collect(v);
        }
    };
    collect(policyObject);
    const macPatches = patchTexts
      .flatMap((text) => parse(text) as { op: string; path: string; value: unknown }[])
      .filter((op) => op.path.endsWith("/macAddress"));
    expect(macPatches.map((op) => [op.op, op.value])).toEqual([
      ["add", underlay.haosNic.mac],
      ["add", underlay.haosNic.mac],
    ]);
    expect(policy).toContain(`"${nad}.${ns}.ovn.kubernetes.io/ip_address":"${underlay.haosNic.ip}"`);
    expect(policy).toContain(`"${underlay.providerNetwork}.provider-network.kubernetes.io/ready":"true"`);
  });

  it("server-side dry-run accepts every resource", async () => {
    const dry = await apply(built, "--dry-run=server");
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split("\n")).toHaveLength(objects.length);
  });

  it("a real apply creates every resource, as declared", async () => {
    const applied = await apply(built);
    expect(applied.exitCode, applied.stderr).toBe(0);
    for (const o of objects) {
      const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
      const resource = group ? `${o.kind.toLowerCase()}.${group}` : o.kind.toLowerCase();
      const namespace = at(o, "metadata", "namespace");
      const inNamespace = typeof namespace === "string" ? ["-n", namespace] : [];
      const got = await server.kubectl(["get", resource, o.metadata.name, "-o", "json", ...inNamespace]);
      expect(got.exitCode, `${o.kind}/${o.metadata.name}: ${got.stderr}`).toBe(0);
      expect(JSON.parse(got.stdout).spec ?? null).toMatchObject((o.spec as object | undefined) ?? {});
    }
  });

  const broken: Array<[string, string, string, (o: K8sObject) => void, RegExp]> = [
    [
      "`spce:` typo",
      "VMInstance",
      "haos",
      (o) => {
        o.spce = o.spec;
        delete o.spec;
      },
      /\.spce: field not declared in schema/,
    ],
    [
      "VMDisk storage '32 Gigs'",
      "VMDisk",
      "haos",
      (o) => set(o, ["spec", "storage"], "32 Gigs"),
      /spec\.storage in body should match/,
    ],
    [
      "VMInstance runStrategy Sometimes",
      "VMInstance",
      "haos",
      (o) => set(o, ["spec", "runStrategy"], "Sometimes"),
      /spec\.runStrategy: Unsupported value: "Sometimes": supported values: "Always", "Halted", "Manual", "RerunOnFailure", "Once"/,
    ],
    [
      "VMInstance externalMethod WholeIp",
      "VMInstance",
      "haos",
      (o) => set(o, ["spec", "externalMethod"], "WholeIp"),
      /spec\.externalMethod: Unsupported value: "WholeIp"/,
    ],
    [
      "Kustomization timeout '15 minutes'",
      "Kustomization",
      "haos-enigma",
      (o) => set(o, ["spec", "timeout"], "15 minutes"),
      /spec\.timeout in body should match/,
    ],
    [
      "healthCheckExprs entry without current",
      "Kustomization",
      "haos-enigma",
      (o) => {
        delete (at(o, "spec", "healthCheckExprs", 0) as Record<string, unknown>).current;
      },
      /spec\.healthCheckExprs\[0\]\.current: Required value/,
    ],
    [
      "Subnet protocol IPv5",
      "Subnet",
      "haos-underlay",
      (o) => set(o, ["spec", "protocol"], "IPv5"),
      /spec\.protocol: Unsupported value: "IPv5"/,
    ],
    [
      "Vlan id 4096",
      "Vlan",
      "haos-lan",
      (o) => set(o, ["spec", "id"], 4096),
      /spec\.id: Invalid value: 4096: spec\.id in body should be less than or equal to 4095/,
    ],
    [
      "ProviderNetwork without defaultInterface",
      "ProviderNetwork",
      "eno1",
      (o) => {
        delete (o.spec as Record<string, unknown>).defaultInterface;
      },
      /spec\.defaultInterface: Required value/,
    ],
    [
      "preference secureBoot 'disabled' (a string)",
      "VirtualMachineClusterPreference",
      "haos",
      (o) => set(o, ["spec", "firmware", "preferredEfi", "secureBoot"], "disabled"),
      /\.spec\.firmware\.preferredEfi\.secureBoot: expected boolean, got &\{disabled\}/,
    ],
    [
      "VMRule `for: 10` (a number)",
      "VMRule",
      "haos",
      (o) => set(o, ["spec", "groups", "0", "rules", "0", "for"], 10),
      /\.spec\.groups\[0\]\.rules\[0\]\.for: expected string, got .*Value:10\}/,
    ],
    [
      "NAD config as an object",
      "NetworkAttachmentDefinition",
      "haos-underlay",
      (o) => set(o, ["spec", "config"], { type: "kube-ovn" }),
      /\.spec\.config: expected string, got .*"type":"kube-ovn"/,
    ],
    [
      "CronJob schedule 'every night'",
      "CronJob",
      "haos-snapshot",
      (o) => set(o, ["spec", "schedule"], "every night"),
      /spec\.schedule: Invalid value: "every night"/,
    ],
  ];

  it.each(broken)("rejects %s with the API server's message", async (_name, kind, name, breakIt, message) => {
    const object = find(kind, name);
    breakIt(object);
    const dry = await apply(yamlOf([object]), "--dry-run=server");
    expect(dry.exitCode).not.toBe(0);
    expect(dry.stderr).toMatch(message);
  });

  it("keeps VMDisk storageClass immutable once created (the chart's CEL rule)", async () => {
    const disk = find("VMDisk", "haos");
    set(disk, ["spec", "storageClass"], "local");
    const changed = await apply(yamlOf([disk]), "--dry-run=server");
    expect(changed.exitCode).not.toBe(0);
    expect(changed.stderr).toContain("storageClass is immutable");
  });

  // The Kyverno NIC patch is checked against the VirtualMachine the real vm-instance chart renders
  // through the real helm-controller: verify-flux.test.ts.

  const run = (file: string, args: string[], env: Record<string, string>) =>
    execFileAsync("bash", [path.join(appDir, "scripts", file), ...args], {
      env: { ...process.env, ...env },
    }).then(
      (r) => ({ ...r, exitCode: 0 }),
      (e: { stdout?: string; stderr?: string; code?: number }) => ({
        stdout: e.stdout ?? "",
        stderr: e.stderr ?? "",
        exitCode: e.code ?? 1,
      }),
    );

  const snapshot = (name: string, labels: Record<string, string>) => ({
    apiVersion: "snapshot.kubevirt.io/v1beta1",
    kind: "VirtualMachineSnapshot",
    metadata: { name, namespace: platform.cluster.tenantNamespace, labels },
    spec: { source: { apiGroup: "kubevirt.io", kind: "VirtualMachine", name: "vm-instance-haos" } },
  });
  const listSnapshots = async (): Promise<string[]> => {
    const got = await server.kubectl([
      "get",
      "virtualmachinesnapshots.snapshot.kubevirt.io",
      "-n",
      platform.cluster.tenantNamespace,
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    return got.stdout.split(" ").filter(Boolean).sort();
  };

  it("snapshot-haos.sh, as the CronJob's ServiceAccount, snapshots, waits for readiness and prunes", async () => {
    const ns = platform.cluster.tenantNamespace;
    const ours = {
      "app.kubernetes.io/managed-by": "haos-snapshot",
      "haos-enigma.dev/vm": "vm-instance-haos",
    };
    const old = [
      "haos-20250101t000000z",
      "haos-20250102t000000z",
      "haos-20250103t000000z",
      "haos-20250104t000000z",
    ];
    const seeded = await apply(yamlOf([...old.map((n) => snapshot(n, ours)), snapshot("taken-by-hand", {})]));
    expect(seeded.exitCode, seeded.stderr).toBe(0);
    const sa = await server.serviceAccount(ns, "haos-snapshot");
    // Least privilege: the job's identity can read nothing else.
    const secrets = await server.kubectl(["get", "secrets", "-n", ns], { kubeconfig: sa.kubeconfigPath });
    expect(secrets.stderr).toContain("Forbidden");

    const running = run("snapshot-haos.sh", [], { KUBECONFIG: sa.kubeconfigPath, KEEP: "3", TIMEOUT: "60s" });
    // Play KubeVirt's snapshot controller: mark the new snapshot ready to use.
    let created: string | undefined;
    for (let i = 0; i < 100 && !created; i++) {
      created = (await listSnapshots()).find((n) => !old.includes(n) && n !== "taken-by-hand");
      if (!created) await new Promise((r) => setTimeout(r, 100));
    }
    expect(created).toMatch(/^haos-\d{8}t\d{6}z$/);
    const ready = await server.kubectl([
      "patch",
      "virtualmachinesnapshots.snapshot.kubevirt.io",
      String(created),
      "-n",
      ns,
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"readyToUse":true}}',
    ]);
    expect(ready.exitCode, ready.stderr).toBe(0);
    const result = await running;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("kept 3 of 5 snapshot(s)");
    // The two oldest of ours are gone; the hand-made one is not ours and stays.
    expect(await listSnapshots()).toEqual([old[2], old[3], created, "taken-by-hand"].sort());
  });

  it("snapshot-haos.sh prunes nothing when the new snapshot never becomes ready", async () => {
    const sa = await server.serviceAccount(platform.cluster.tenantNamespace, "haos-snapshot");
    const before = await listSnapshots();
    // A new second, so the new snapshot gets a new name.
    await new Promise((r) => setTimeout(r, 1100));
    const result = await run("snapshot-haos.sh", [], {
      KUBECONFIG: sa.kubeconfigPath,
      KEEP: "1",
      TIMEOUT: "2s",
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/not ready after 2s; nothing pruned/);
    const after = await listSnapshots();
    expect(after.filter((n) => !before.includes(n))).toHaveLength(1);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it("the restore runbook's manifest and stop command are valid against the declared schemas", async () => {
    const readme = readFileSync(path.join(appDir, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => String(m[1]))
      .filter((b) => /^\s*# runbook:/.test(b));
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const indent = Math.min(
        ...block
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => l.search(/\S/)),
      );
      const manifest = block
        .split("\n")
        .map((l) => l.slice(indent))
        .join("\n");
      const dry = await apply(manifest, "--dry-run=server");
      expect(dry.exitCode, `${manifest}\n${dry.stderr}`).toBe(0);
    }
    const stop = /kubectl -n tenant-root patch vminstance haos --type=merge -p '([^']+)'/.exec(readme);
    expect(stop, "README must keep the stop command").not.toBeNull();
    const patched = await server.kubectl([
      "patch",
      "vminstances.apps.cozystack.io",
      "haos",
      "-n",
      "tenant-root",
      "--type=merge",
      "-p",
      String(stop?.[1]),
      "--dry-run=server",
      "-o",
      "jsonpath={.spec.runStrategy}",
    ]);
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(patched.stdout).toBe("Halted");
  });

  it("validate-haos-network.sh reports each network check with the fix and fails", async () => {
    const admin = { KUBECONFIG: server.kubeconfigPath };
    const help = await run("validate-haos-network.sh", ["--help"], admin);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("--no-lan-probes");
    expect((await run("validate-haos-network.sh", ["--bogus"], admin)).exitCode).toBe(2);

    const first = await run("validate-haos-network.sh", ["--no-lan-probes"], admin);
    expect(first.exitCode).toBe(1);
    expect(first.stdout).toContain(
      "FAIL  provider network eno1 not ready on illusion (is eno1 un-ignored in Talos?",
    );
    expect(first.stdout).toContain("PASS  subnet haos-underlay exists");
    expect(first.stdout).toContain("PASS  NetworkAttachmentDefinition tenant-root/haos-underlay exists");
    expect(first.stdout).toContain("FAIL  VMI tenant-root/vm-instance-haos not running");
    expect(first.stdout).toContain("FAIL  Service tenant-root/vm-instance-haos has no load-balancer IP yet");

    // Play Kube-OVN: ready on the LAN nodes and, wrongly, on the Hetzner worker.
    const nodes = [...platform.network.lan.nodes.map((n) => n.name), "here-i-am"];
    const status = await server.kubectl([
      "patch",
      "provider-networks.kubeovn.io",
      "eno1",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { readyNodes: nodes } }),
    ]);
    expect(status.exitCode, status.stderr).toBe(0);
    const second = await run("validate-haos-network.sh", ["--no-lan-probes"], admin);
    expect(second.stdout).toContain("PASS  provider network eno1 ready on the-toy-factory");
    expect(second.stdout).toContain(
      "FAIL  provider network eno1 is ready on here-i-am, which is not a LAN node",
    );
  });

  it("healthCheckExprs classify the mirrored conditions as intended (evaluated by the API server's CEL)", async () => {
    type Cond = { type: string; status: string; reason: string; message?: string };
    const c = (type: string, status: string, reason: string, message?: string): Cond => ({
      type,
      status,
      reason,
      ...(message ? { message } : {}),
    });
    const samples: Array<[string, Cond[], { VMDisk: string; VMInstance: string }]> = [
      ["no conditions yet", [], { VMDisk: "InProgress", VMInstance: "InProgress" }],
      [
        "installing",
        [c("Ready", "Unknown", "Progressing"), c("Released", "Unknown", "Progressing")],
        { VMDisk: "InProgress", VMInstance: "InProgress" },
      ],
      [
        "render failed: missing profile",
        [
          c("Ready", "False", "InstallFailed"),
          c(
            "Released",
            "False",
            "InstallFailed",
            "execution error at (vm-instance/templates/vm.yaml:5:4): Specified instanceProfile does not exist in the cluster: haos",
          ),
        ],
        { VMDisk: "Failed", VMInstance: "Failed" },
      ],
      [
        "disk race",
        [
          c("Ready", "False", "InstallFailed"),
          c(
            "Released",
            "False",
            "InstallFailed",
            "execution error at (vm-instance/templates/vm.yaml:71:16): Specified disk not exists in cluster: haos",
          ),
        ],
        { VMDisk: "Failed", VMInstance: "InProgress" },
      ],
      [
        "upgrade failed",
        [c("Ready", "False", "UpgradeFailed"), c("Released", "False", "UpgradeFailed", "timeout")],
        { VMDisk: "Failed", VMInstance: "Failed" },
      ],
      [
        "released, workloads not ready",
        [
          c("Ready", "True", "Succeeded"),
          c("Released", "True", "InstallSucceeded"),
          c("WorkloadsReady", "False", "WorkloadsNotReady"),
        ],
        { VMDisk: "InProgress", VMInstance: "InProgress" },
      ],
      [
        "released, no WorkloadsReady",
        [c("Ready", "True", "Succeeded"), c("Released", "True", "InstallSucceeded")],
        { VMDisk: "Current", VMInstance: "InProgress" },
      ],
      [
        "all ready",
        [
          c("Ready", "True", "Succeeded"),
          c("Released", "True", "InstallSucceeded"),
          c("WorkloadsReady", "True", "WorkloadsReady"),
        ],
        { VMDisk: "Current", VMInstance: "Current" },
      ],
    ];
    const exprs = at(find("Kustomization", "haos-enigma"), "spec", "healthCheckExprs") as Array<
      Record<string, string>
    >;
    const fields = ["inProgress", "failed", "current"] as const;
    // One probe CRD per expression; Flux's top-level `status` variable becomes `self.status`.
    const probes = exprs.flatMap((e) =>
      fields.map((field) => ({
        kind: String(e.kind),
        field,
        plural: `${String(e.kind).toLowerCase()}${field.toLowerCase()}s`,
        rule: String(e[field]).replace(/(?<![.\w])status\b/g, "self.status"),
      })),
    );
    const condition = {
      type: "object",
      required: ["type", "status"],
      properties: Object.fromEntries(
        ["type", "status", "reason", "message"].map((k) => [k, { type: "string", maxLength: 1024 }]),
      ),
    };
    await server.installCrds([
      yamlOf(
        probes.map((p) => ({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: { name: `${p.plural}.cel.test.haos.dev` },
          spec: {
            group: "cel.test.haos.dev",
            scope: "Cluster",
            names: { plural: p.plural, kind: `Probe${p.plural}` },
            versions: [
              {
                name: "v1",
                served: true,
                storage: true,
                schema: {
                  openAPIV3Schema: {
                    type: "object",
                    "x-kubernetes-validations": [{ rule: p.rule }],
                    properties: {
                      status: {
                        type: "object",
                        properties: { conditions: { type: "array", maxItems: 8, items: condition } },
                      },
                    },
                  },
                },
              },
            ],
          },
        })),
      ),
    ]);
    const holds = async (plural: string, conditions: Cond[]): Promise<boolean> => {
      const probe = {
        apiVersion: "cel.test.haos.dev/v1",
        kind: `Probe${plural}`,
        metadata: { name: "p" },
        status: { conditions },
      };
      const r = await server.kubectl(["create", "--dry-run=server", "-f", "-"], {
        input: JSON.stringify(probe),
      });
      if (r.exitCode !== 0 && !r.stderr.includes("failed rule")) throw new Error(r.stderr);
      return r.exitCode === 0;
    };
    for (const [name, conditions, want] of samples) {
      for (const kind of ["VMDisk", "VMInstance"] as const) {
        let verdict = "InProgress";
        for (const [field, status] of [
          ["inProgress", "InProgress"],
          ["failed", "Failed"],
          ["current", "Current"],
        ]) {
          const probe = probes.find((p) => p.kind === kind && p.field === field);
          if (probe && (await holds(probe.plural, conditions))) {
            verdict = String(status);
            break;
          }
        }
        expect(`${kind} ${name}: ${verdict}`).toBe(`${kind} ${name}: ${want[kind]}`);
      }
    }
  });
});
