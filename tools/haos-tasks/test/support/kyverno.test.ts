import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { kyvernoApply } from "./kyverno.ts";

// kyvernoApply runs the pinned Kyverno CLI (.tools/bin/kyverno): these pin down what the tests read
// from it, on the repository's own policy and on the kyverno/anchor lint rule's fixtures.
const nicPolicy = readFileSync(
  path.join(toolsRepoRoot, "apps/haos-enigma/kyverno-policy-haos-nic.yaml"),
  "utf8",
);

function vm(nics: string[]) {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "vm-instance-haos", namespace: "tenant-root" },
    spec: {
      runStrategy: "Always",
      template: {
        metadata: { annotations: { keep: "me" } },
        spec: {
          domain: { devices: { interfaces: nics.map((name) => ({ name, bridge: {} })) } },
          networks: nics.map((name) => ({ name, pod: {} })),
        },
      },
    },
  };
}

type Vm = ReturnType<typeof vm>;
const interfaces = (r: unknown) =>
  (r as Vm).spec.template.spec.domain.devices.interfaces as Array<{ name: string; macAddress?: string }>;

describe("kyvernoApply (Kyverno's own engine, `kyverno apply`)", () => {
  it("pins the MAC on the NIC the foreach precondition names, the Kube-OVN annotations and the nodeSelector, also on the mutate-existing target", async () => {
    const applied = await kyvernoApply(nicPolicy, vm(["default", "haos-underlay"]));
    expect(applied.rules.map((r) => `${r.policy}/${r.rule} ${r.result}`)).toEqual([
      "haos-lan-nic/pin-lan-nic pass",
      "haos-lan-nic/pin-lan-nic-existing pass",
    ]);
    // pin-lan-nic-existing targets the VM itself: Kyverno patches it as the background controller would.
    expect(applied.patchedTargets).toHaveLength(1);
    for (const patched of [applied.resource, applied.patchedTargets[0]]) {
      expect(interfaces(patched).find((i) => i.name === "haos-underlay")?.macAddress).toBe(
        "02:48:41:4f:53:01",
      );
      expect((patched as Vm).spec.template.metadata.annotations).toEqual({
        keep: "me",
        "haos-underlay.tenant-root.ovn.kubernetes.io/mac_address": "02:48:41:4f:53:01",
        "haos-underlay.tenant-root.ovn.kubernetes.io/ip_address": "192.168.50.60",
      });
      expect((patched as Vm).spec.template.spec).toMatchObject({
        nodeSelector: { "eno1.provider-network.kubernetes.io/ready": "true" },
        networks: [
          { name: "default", pod: {} },
          { name: "haos-underlay", pod: {} },
        ],
      });
    }
  });

  // Kyverno's patchStrategicMerge is kustomize's, which merges a list by key only where its OpenAPI
  // schema names a merge key — built-in kinds only; a CRD's list (KubeVirt's interfaces) is
  // replaced, so the policy's former anchored patch `interfaces: [{(name): haos-underlay, …}]` left
  // the VM with that NIC alone, `default` and both `bridge` bindings dropped (kyverno/kyverno#1955).
  // The policy now adds the MAC with a foreach JSON patch at the NIC's index.
  it("keeps the VM's other NICs and every NIC's binding, on the admission and the mutate-existing path", async () => {
    const applied = await kyvernoApply(nicPolicy, vm(["default", "haos-underlay"]));
    expect(applied.patchedTargets).toHaveLength(1);
    for (const patched of [applied.resource, applied.patchedTargets[0]])
      expect(interfaces(patched)).toEqual([
        { name: "default", bridge: {} },
        { name: "haos-underlay", bridge: {}, macAddress: "02:48:41:4f:53:01" },
      ]);
    // The NIC's position does not matter: the patch follows the name.
    const first = await kyvernoApply(nicPolicy, vm(["haos-underlay", "default"]));
    expect(interfaces(first.resource)).toEqual([
      { name: "haos-underlay", bridge: {}, macAddress: "02:48:41:4f:53:01" },
      { name: "default", bridge: {} },
    ]);
  });

  it("a NIC name that matches no interface patches nothing there and Kyverno says nothing: the rule still passes", async () => {
    const input = vm(["default", "haos-lan"]);
    const applied = await kyvernoApply(nicPolicy, input);
    // The annotations and nodeSelector applied, so Kyverno reports a pass…
    expect(applied.rules.map((r) => `${r.rule} ${r.result}`)).toContain("pin-lan-nic pass");
    // …and only the NICs show the anchor missed: no MAC anywhere, none added.
    expect(interfaces(applied.resource)).toEqual(input.spec.template.spec.domain.devices.interfaces);
  });

  it("agrees with the kyverno/anchor lint fixtures: the bad anchor is Kyverno's skip, the good one its patch", async () => {
    const fixture = (kind: "good" | "bad", file: string) =>
      readFileSync(
        path.join(
          toolsRepoRoot,
          "tools/haos-tasks/test/fixtures/validate/kyverno/anchor",
          kind,
          "apps",
          file,
        ),
        "utf8",
      );
    const bad = parse(fixture("bad", "deployment.yaml")) as object;
    const skipped = await kyvernoApply(fixture("bad", "policy.yaml"), bad);
    expect(skipped.rules.map((r) => `${r.rule} ${r.result} ${r.message}`)).toEqual([
      "limit-memory skip no patches applied",
    ]);
    expect(skipped.resource).toEqual(bad);

    const good = parse(fixture("good", "deployment.yaml")) as object;
    const patched = await kyvernoApply(fixture("good", "policy.yaml"), good);
    expect(patched.rules.map((r) => `${r.rule} ${r.result}`)).toEqual(["limit-memory pass"]);
    expect(patched.resource).toMatchObject({
      spec: {
        template: { spec: { containers: [{ name: "web", resources: { limits: { memory: "256Mi" } } }] } },
      },
    });
  });

  it("agrees with the kyverno/crd-list-patch lint fixtures: the anchored patch replaces the CRD's list, the foreach keeps it", async () => {
    const policy = (kind: "good" | "bad") =>
      readFileSync(
        path.join(
          toolsRepoRoot,
          "tools/haos-tasks/test/fixtures/validate/kyverno/crd-list-patch",
          kind,
          "apps/policy.yaml",
        ),
        "utf8",
      );
    const input = { ...vm(["default", "lan"]), metadata: { name: "vm", namespace: "demo" } };
    const replaced = await kyvernoApply(policy("bad"), input);
    expect(interfaces(replaced.resource)).toEqual([{ name: "lan", macAddress: "02:00:00:00:00:01" }]);
    const kept = await kyvernoApply(policy("good"), input);
    expect(interfaces(kept.resource)).toEqual([
      { name: "default", bridge: {} },
      { name: "lan", bridge: {}, macAddress: "02:00:00:00:00:01" },
    ]);
  });

  it("lists no rule and returns the resource unchanged when the policy does not match it", async () => {
    const other = { ...vm(["haos-underlay"]), metadata: { name: "other", namespace: "tenant-root" } };
    const applied = await kyvernoApply(nicPolicy, other);
    expect(applied.rules).toEqual([]);
    expect(applied.resource).toEqual(other);
  });

  it("throws with Kyverno's own message on a policy Kyverno rejects", async () => {
    const broken = nicPolicy.replace("patchStrategicMerge:", "patchStrategicMergeX:");
    await expect(kyvernoApply(broken, vm(["haos-underlay"]))).rejects.toThrow(
      /kyverno apply failed.*\n.*patchStrategicMergeX: Invalid value: value provided for unknown field/,
    );
  });
});
