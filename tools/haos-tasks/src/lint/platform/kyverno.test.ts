import { describe, expect, it } from "vitest";
import { resourcesOf } from "../../manifests/resources.ts";
import { parseSourceFile } from "../../manifests/yaml-source.ts";
import { standaloneSubject } from "../../validate/subjects.ts";
import { kyvernoRules } from "./kyverno.ts";
import type { RuleContext, Subject } from "./subject.ts";

const subjectsOf = (file: string, text: string): Subject[] =>
  resourcesOf(parseSourceFile(text, file)).map(standaloneSubject);

const run = (...subjects: Subject[][]) => {
  const context: RuleContext = {
    subjects: subjects.flat(),
    platformOf: () => undefined,
    stockOf: () => undefined,
    v0InstanceProfiles: undefined,
    buildOf: () => [],
  };
  return kyvernoRules(context).map((f) => `${f.file}:${f.line} ${f.rule} ${f.severity}`);
};

const vm = (...nics: string[]) =>
  subjectsOf(
    "apps/vm.yaml",
    `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: vm
  namespace: demo
spec:
  template:
    spec:
      domain:
        devices:
          interfaces:
${nics.map((n) => `            - name: ${n}\n              bridge: {}\n`).join("")}`,
  );

const match = `      match:
        any:
          - resources:
              kinds:
                - kubevirt.io/v1/VirtualMachine
              names:
                - vm
`;

/** A foreach JSON patch of the interface(s) the precondition names (line 22: its value). */
const foreachPolicy = (operator: string, value: string, list = "request.object", extra = "") =>
  subjectsOf(
    "apps/policy.yaml",
    `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: mac
spec:
  rules:
    - name: pin
${match}      mutate:
${extra}        foreach:
          - list: ${list}.spec.template.spec.domain.devices.interfaces
            preconditions:
              all:
                - key: "{{ element.name }}"
                  operator: ${operator}
                  value: ${value}
            patchesJson6902: |-
              - op: add
                path: /spec/template/spec/domain/devices/interfaces/{{ elementIndex }}/macAddress
                value: "02:00:00:00:00:01"
`,
  );

describe("kyverno/anchor: a foreach precondition on {{ element.name }} names the item the rule patches", () => {
  it("is silent when the object has the named item", () => {
    expect(run(foreachPolicy("Equals", "lan"), vm("default", "lan"))).toEqual([]);
    expect(run(foreachPolicy("In", "[wan, lan]"), vm("default", "lan"))).toEqual([]);
  });

  it("reports at the precondition's value and at the object's list when no item has the name", () => {
    const policy = foreachPolicy("Equals", "lan0");
    const context = run(policy, vm("default", "lan"));
    expect(context).toEqual([
      "apps/policy.yaml:22 kyverno/anchor error",
      "apps/vm.yaml:11 kyverno/anchor error",
    ]);
    const findings = kyvernoRules({
      subjects: [...policy, ...vm("default", "lan")],
      platformOf: () => undefined,
      stockOf: () => undefined,
      v0InstanceProfiles: undefined,
      buildOf: () => [],
    });
    expect(findings[0]?.message).toBe(
      "ClusterPolicy mac rule pin: foreach precondition {{ element.name }} Equals lan0 matches no item of /spec/template/spec/domain/devices/interfaces in VirtualMachine vm (it has default, lan): Kyverno skips the patch silently",
    );
    expect(findings[0]?.hint).toBe(
      "rename the precondition's value to one of default, lan, or the item back to lan0",
    );
    expect(findings[1]?.message).toContain(
      "no item of /spec/template/spec/domain/devices/interfaces has name lan0",
    );
    expect(findings[1]?.hint).toContain("change the policy's foreach precondition to match");
    expect(run(foreachPolicy("AnyIn", "[wan, lan0]"), vm("default", "lan"))).toHaveLength(2);
  });

  it("reads a mutate-existing rule's `target.` list against its targets", () => {
    const targets = `        targets:
          - apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            name: vm
`;
    expect(run(foreachPolicy("Equals", "lan0", "target", targets), vm("lan"))).toEqual([
      "apps/policy.yaml:26 kyverno/anchor error",
      "apps/vm.yaml:11 kyverno/anchor error",
    ]);
    expect(run(foreachPolicy("Equals", "lan", "target", targets), vm("lan"))).toEqual([]);
  });

  it("leaves alone what it cannot know offline: a variable value, an `any` of several conditions", () => {
    expect(run(foreachPolicy("Equals", '"{{ request.object.metadata.name }}"'), vm("lan"))).toEqual([]);
    const text = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: mac
spec:
  rules:
    - name: pin
${match}      mutate:
        foreach:
          - list: request.object.spec.template.spec.domain.devices.interfaces
            preconditions:
              any:
                - key: "{{ element.name }}"
                  operator: Equals
                  value: lan0
                - key: "{{ element.name }}"
                  operator: Equals
                  value: lan1
            patchesJson6902: "[]"
`;
    expect(run(subjectsOf("apps/policy.yaml", text), vm("lan"))).toEqual([]);
  });
});

describe("kyverno/crd-list-patch: an anchored list item in a custom resource's strategic-merge patch", () => {
  const anchored = (kinds: string, nic = "lan") =>
    subjectsOf(
      "apps/policy.yaml",
      `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: mac
spec:
  rules:
    - name: pin
      match:
        any:
          - resources:
              kinds:
                - ${kinds}
      mutate:
        patchStrategicMerge:
          spec:
            template:
              spec:
                domain:
                  devices:
                    interfaces:
                      - (name): ${nic}
                        macAddress: "02:00:00:00:00:01"
`,
    );

  it("warns at the anchor, with or without the object in the run, naming the fix", () => {
    expect(run(anchored("kubevirt.io/v1/VirtualMachine"))).toEqual([
      "apps/policy.yaml:21 kyverno/crd-list-patch warning",
    ]);
    // A bare kind resolves through the objects it matched.
    expect(run(anchored("VirtualMachine"), vm("lan"))).toEqual([
      "apps/policy.yaml:21 kyverno/crd-list-patch warning",
    ]);
    const [f] = kyvernoRules({
      subjects: anchored("kubevirt.io/v1/VirtualMachine"),
      platformOf: () => undefined,
      stockOf: () => undefined,
      v0InstanceProfiles: undefined,
      buildOf: () => [],
    });
    expect(f?.message).toContain(
      "the anchor (name): lan picks an item of /spec/template/spec/domain/devices/interfaces in VirtualMachine (kubevirt.io), a custom resource",
    );
    expect(f?.message).toContain("REPLACES the whole list");
    expect(f?.hint).toContain("foreach");
    expect(f?.hint).toContain(
      "patchesJson6902 at /spec/template/spec/domain/devices/interfaces/{{ elementIndex }}/<field>",
    );
    // Both findings when the anchor also misses the object's items.
    expect(run(anchored("kubevirt.io/v1/VirtualMachine", "lan0"), vm("lan"))).toEqual([
      "apps/policy.yaml:21 kyverno/crd-list-patch warning",
      "apps/policy.yaml:21 kyverno/anchor error",
      "apps/vm.yaml:11 kyverno/anchor error",
    ]);
  });

  it("is silent on built-in kinds, whose lists Kyverno merges by key (core, apps, *.k8s.io)", () => {
    expect(run(anchored("apps/v1/Deployment"))).toEqual([]);
    expect(run(anchored("Pod"))).toEqual([]);
    expect(run(anchored("networking.k8s.io/v1/NetworkPolicy"))).toEqual([]);
  });
});
