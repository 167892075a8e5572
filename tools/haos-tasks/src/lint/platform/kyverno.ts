import type { Finding } from "../../findings.ts";
import { apiGroup, field, stringField } from "../../manifests/resources.ts";
import { pointerSegment } from "../../manifests/yaml-source.ts";
import { finding } from "../rules.ts";
import { at, describeSubject, type RuleContext, type Subject } from "./subject.ts";

/**
 * kyverno/anchor: a Kyverno mutate rule's strategic-merge patch that selects list items with a
 * conditional anchor — `interfaces: [{(name): haos-underlay, macAddress: …}]` — changes nothing
 * when no item of the object it targets has that name, and Kyverno says nothing (the anchor is a
 * condition, not an error). The objects a rule targets are looked for among every object of the
 * run, rendered ones included (the VirtualMachine CozyStack's chart renders from a VMInstance), so
 * a renamed NIC or a typo in the anchor is found before merge.
 */

interface Anchor {
  /** Pointer of the list in the patched object, e.g. /spec/template/spec/domain/devices/interfaces. */
  listPointer: string;
  /** Pointer of the anchor key in the policy's patch (for the policy-side finding). */
  patchPointer: string;
  key: string;
  value: string;
}

const anchorKey = /^\((.+)\)$/;

/** Every conditional anchor on a list item in a strategic-merge patch. */
function anchorsOf(patch: unknown, objectPointer = "", patchPointer = ""): Anchor[] {
  const out: Anchor[] = [];
  if (Array.isArray(patch)) {
    patch.forEach((item, i) => {
      if (item && typeof item === "object" && !Array.isArray(item)) {
        for (const [k, v] of Object.entries(item)) {
          const m = anchorKey.exec(k);
          if (m?.[1] && (typeof v === "string" || typeof v === "number" || typeof v === "boolean"))
            out.push({
              listPointer: objectPointer,
              patchPointer: `${patchPointer}/${i}/${pointerSegment(k)}`,
              key: m[1],
              value: String(v),
            });
        }
      }
      out.push(...anchorsOf(item, `${objectPointer}/*`, `${patchPointer}/${i}`));
    });
  } else if (patch && typeof patch === "object") {
    for (const [k, v] of Object.entries(patch)) {
      // Anchored map keys (`(key)`, `+(key)`, `=(key)`, `X(key)`) name the same field of the object.
      const plain = k.replace(/^[+=X^<]?\((.+)\)$/, "$1");
      out.push(
        ...anchorsOf(v, `${objectPointer}/${pointerSegment(plain)}`, `${patchPointer}/${pointerSegment(k)}`),
      );
    }
  }
  return out;
}

/** The values at a pointer whose `*` segments stand for every item of a list. */
function valuesAt(object: unknown, pointer: string): unknown[] {
  let current: unknown[] = [object];
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const next: unknown[] = [];
    for (const value of current) {
      if (segment === "*") {
        if (Array.isArray(value)) next.push(...value);
      } else if (value && typeof value === "object" && !Array.isArray(value)) {
        const child = (value as Record<string, unknown>)[segment];
        if (child !== undefined) next.push(child);
      }
    }
    current = next;
  }
  return current;
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  ).test(value);

/** Whether a Kyverno `kinds` entry (`Kind`, `version/Kind`, `group/version/Kind`, globs) covers the object. */
function kindMatches(entry: string, subject: Subject): boolean {
  const parts = entry.split("/");
  const kind = parts.pop() ?? "";
  if (!glob(kind, subject.kind)) return false;
  if (parts.length === 0) return true;
  const version = subject.apiVersion.slice(subject.apiVersion.lastIndexOf("/") + 1);
  if (parts.length === 1)
    return glob(parts[0] ?? "*", version) || glob(parts[0] ?? "*", apiGroup(subject.apiVersion));
  return glob(parts[0] ?? "*", apiGroup(subject.apiVersion)) && glob(parts[1] ?? "*", version);
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** The resource filters of a rule's `match` (any, all, or the legacy top-level resources). */
function matchFilters(match: unknown): unknown[] {
  const out: unknown[] = [];
  for (const list of [field(match, "any"), field(match, "all")]) {
    if (Array.isArray(list)) for (const f of list) out.push(field(f, "resources"));
  }
  const legacy = field(match, "resources");
  if (legacy) out.push(legacy);
  return out;
}

function filterMatches(filter: unknown, subject: Subject): boolean {
  const kinds = strings(field(filter, "kinds"));
  if (kinds.length === 0 || !kinds.some((k) => kindMatches(k, subject))) return false;
  const names = strings(field(filter, "names"));
  const name = stringField(filter, "name");
  if (name) names.push(name);
  if (names.length > 0 && !names.some((n) => glob(n, subject.name))) return false;
  const namespaces = strings(field(filter, "namespaces"));
  if (namespaces.length > 0 && !namespaces.some((n) => glob(n, subject.namespace))) return false;
  return true;
}

/** mutate-existing `targets`: apiVersion, kind, name, namespace. */
function targetMatches(target: unknown, subject: Subject): boolean {
  const apiVersion = stringField(target, "apiVersion");
  const kind = stringField(target, "kind");
  const name = stringField(target, "name");
  const namespace = stringField(target, "namespace");
  return (
    (!apiVersion || apiVersion === subject.apiVersion) &&
    (!kind || glob(kind, subject.kind)) &&
    (!name || glob(name, subject.name)) &&
    (!namespace || glob(namespace, subject.namespace))
  );
}

export function kyvernoRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  // One finding at the object's side per missing item, naming every policy rule that patches it.
  const targetSide = new Map<string, { target: Subject; anchor: Anchor; where: string; places: string[] }>();
  const policies = context.subjects.filter(
    (s) => apiGroup(s.apiVersion) === "kyverno.io" && (s.kind === "ClusterPolicy" || s.kind === "Policy"),
  );
  for (const policy of policies) {
    const rules = field(policy.object, "spec", "rules");
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule, r) => {
      const mutate = field(rule, "mutate");
      const patch = field(mutate, "patchStrategicMerge");
      if (!patch || typeof patch !== "object") return;
      const anchors = anchorsOf(patch, "", `/spec/rules/${r}/mutate/patchStrategicMerge`);
      if (anchors.length === 0) return;
      const targetList = field(mutate, "targets");
      const targets = context.subjects.filter((s) =>
        Array.isArray(targetList) && targetList.length > 0
          ? targetList.some((t) => targetMatches(t, s))
          : matchFilters(field(rule, "match")).some((f) => filterMatches(f, s)),
      );
      const ruleName = stringField(rule, "name") ?? `#${r + 1}`;
      for (const target of targets) {
        for (const anchor of anchors) {
          const lists = valuesAt(target.object, anchor.listPointer).filter(Array.isArray) as unknown[][];
          if (lists.length === 0) continue; // no such list: the patch adds it, no anchor to miss
          const present = lists.some((list) =>
            list.some((item) => String(field(item, anchor.key)) === anchor.value),
          );
          if (present) continue;
          const names = lists
            .flatMap((list) => list.map((item) => field(item, anchor.key)))
            .filter((v) => v !== undefined)
            .map(String);
          const where = anchor.listPointer.replace(/\/\*/g, "[]");
          const policyAt = at(policy, anchor.patchPointer);
          findings.push(
            finding(
              "kyverno/anchor",
              policyAt,
              `${policy.kind} ${policy.name} rule ${ruleName}: (${anchor.key}): ${anchor.value} matches no item of ${where} in ${describeSubject(target)} (it has ${names.length > 0 ? names.join(", ") : "none"}): Kyverno skips the patch silently`,
              `rename the anchor to one of ${names.join(", ") || "the object's items"}, or the item back to ${anchor.value}`,
            ),
          );
          if (target.file !== policy.file) {
            const key = `${target.kind}\u0000${target.namespace}\u0000${target.name}\u0000${anchor.listPointer}\u0000${anchor.key}\u0000${anchor.value}`;
            const entry = targetSide.get(key) ?? { target, anchor, where, places: [] };
            entry.places.push(`${policy.kind} ${policy.name} (${policyAt.file}:${policyAt.line})`);
            targetSide.set(key, entry);
          }
        }
      }
    });
  }
  for (const { target, anchor, where, places } of targetSide.values()) {
    findings.push(
      finding(
        "kyverno/anchor",
        at(target, anchor.listPointer.replace(/\/\*.*$/, "")),
        `${describeSubject(target)}: no item of ${where} has ${anchor.key} ${anchor.value}, which ${[...new Set(places)].join(" and ")} patch${places.length === 1 ? "es" : ""}: Kyverno skips the patch silently`,
        `keep the ${anchor.key} ${anchor.value}, or change the policy's anchor to match`,
      ),
    );
  }
  return findings;
}
