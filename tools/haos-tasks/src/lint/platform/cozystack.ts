import type { Finding } from "../../findings.ts";
import { field } from "../../manifests/resources.ts";
import { cozystackLine } from "../../platform/platform.ts";
import { finding } from "../rules.ts";
import { at, type RuleContext, type Subject, subjectsOf } from "./subject.ts";

const appsGroup = "apps.cozystack.io";
const instancetypeGroup = "instancetype.kubevirt.io";

/** Edit distance, to suggest the stock name a typo meant. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest known names, nearest first. */
function closest(value: string, names: Iterable<string>): string[] {
  return [...names]
    .map((n) => ({ n, d: distance(value, n) }))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 3)
    .map((x) => x.n);
}

function definedNames(context: RuleContext, kind: string): Set<string> {
  return new Set(subjectsOf(context, instancetypeGroup, kind).map((s) => s.name));
}

function nameRule(
  vm: Subject,
  key: "instanceProfile" | "instanceType",
  defined: Set<string>,
  stock: Set<string> | undefined,
  version: string,
): Finding[] {
  const value = field(vm.object, "spec", key);
  if (typeof value !== "string" || defined.has(value) || stock?.has(value)) return [];
  if (!stock) {
    return [
      {
        ...finding(
          key === "instanceProfile" ? "cozystack/instance-profile" : "cozystack/instance-type",
          at(vm, `/spec/${key}`),
          `${key} '${value}' not checked: schemas.lock.json pins no stock list for CozyStack ${version}`,
          "pin the version's kubevirt-instancetypes templates in schemas.lock.json",
        ),
        severity: "info",
      },
    ];
  }
  const what =
    key === "instanceProfile" ? "VirtualMachineClusterPreference" : "VirtualMachineClusterInstancetype";
  const rule = key === "instanceProfile" ? "cozystack/instance-profile" : "cozystack/instance-type";
  const shipped = ` nor shipped by CozyStack ${version}`;
  return [
    finding(
      rule,
      at(vm, `/spec/${key}`),
      `${key} '${value}' names no ${what} defined in the repository${shipped}; the VMInstance would fail to render`,
      `define a ${what} named '${value}' in the app, or use a known name (closest: ${closest(value, [...defined, ...stock]).join(", ")})`,
    ),
  ];
}

function lineFields(vm: Subject, line: "v0" | "v1", version: string): Finding[] {
  const spec = (field(vm.object, "spec") ?? {}) as Record<string, unknown>;
  const findings: Finding[] = [];
  if (line === "v1" && "running" in spec && !("runStrategy" in spec)) {
    const strategy = spec.running === false ? "Halted" : "Always";
    findings.push(
      finding(
        "cozystack/run-strategy",
        at(vm, "/spec/running"),
        `'running' is the CozyStack 0.x spelling; ${version} uses 'runStrategy'`,
        `replace 'running: ${String(spec.running)}' with 'runStrategy: ${strategy}'`,
      ),
    );
  }
  if (line === "v0" && "runStrategy" in spec) {
    findings.push(
      finding(
        "cozystack/run-strategy",
        at(vm, "/spec/runStrategy"),
        `'runStrategy' does not exist on CozyStack ${version}; 0.x reads 'running'`,
        `replace 'runStrategy: ${String(spec.runStrategy)}' with 'running: ${spec.runStrategy === "Halted" ? "false" : "true"}'`,
      ),
    );
  }
  if (line === "v1" && "subnets" in spec) {
    findings.push({
      ...finding(
        "cozystack/networks",
        at(vm, "/spec/subnets"),
        `'subnets' is deprecated since CozyStack v1.3; ${version} reads 'networks'`,
        "rename 'subnets:' to 'networks:' (same [{name}] items)",
      ),
      severity: "warning",
    });
  }
  if (line === "v0" && "networks" in spec) {
    findings.push(
      finding(
        "cozystack/networks",
        at(vm, "/spec/networks"),
        `'networks' does not exist on CozyStack ${version}; 0.x reads 'subnets'`,
        "rename 'networks:' to 'subnets:' (same [{name}] items)",
      ),
    );
  }
  return findings;
}

/** VMInstance rules for the declared CozyStack line: names that must resolve and fields per line. */
export function cozystackRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const preferences = definedNames(context, "VirtualMachineClusterPreference");
  const instancetypes = definedNames(context, "VirtualMachineClusterInstancetype");
  const disks = subjectsOf(context, appsGroup, "VMDisk");
  for (const vm of subjectsOf(context, appsGroup, "VMInstance")) {
    const platform = context.platformOf(vm);
    if (!platform) continue;
    const version = platform.versions.cozystack;
    const line = cozystackLine(version);
    const stock = context.stockOf(version);
    findings.push(...lineFields(vm, line, version));
    const profile = field(vm.object, "spec", "instanceProfile");
    if (line === "v0" && context.v0InstanceProfiles && typeof profile === "string") {
      if (!context.v0InstanceProfiles.includes(profile)) {
        findings.push(
          finding(
            "cozystack/instance-profile",
            at(vm, "/spec/instanceProfile"),
            `instanceProfile '${profile}' is not in the fixed list CozyStack ${version} accepts`,
            "CozyStack 0.x only takes stock preferences; a custom preference needs CozyStack v1.x",
          ),
        );
      }
    } else if (line === "v1") {
      findings.push(...nameRule(vm, "instanceProfile", preferences, stock?.preferences, version));
    }
    findings.push(...nameRule(vm, "instanceType", instancetypes, stock?.instancetypes, version));
    const listed = field(vm.object, "spec", "disks");
    if (Array.isArray(listed)) {
      listed.forEach((disk, i) => {
        const name = field(disk, "name");
        if (typeof name !== "string") return;
        const found = disks.some(
          (d) => d.name === name && (d.namespace === vm.namespace || !d.namespace || !vm.namespace),
        );
        if (!found) {
          findings.push(
            finding(
              "cozystack/vm-disk",
              at(vm, `/spec/disks/${i}/name`),
              `disk '${name}' names no VMDisk${vm.namespace ? ` in namespace ${vm.namespace}` : ""}; the VM would wait for DataVolume vm-disk-${name} forever`,
              `add a VMDisk named '${name}' to the app, or fix the name`,
            ),
          );
        }
      });
    }
  }
  return findings;
}
