import type { Finding } from "../../findings.ts";
import { apiGroup, field, stringField } from "../../manifests/resources.ts";
import { pointerSegment } from "../../manifests/yaml-source.ts";
import { finding } from "../rules.ts";
import { at, describeSubject, type RuleContext, type Subject } from "./subject.ts";

/**
 * kyverno/anchor: a Kyverno mutate rule that patches one item of a list, named by a conditional
 * anchor in a strategic-merge patch — `interfaces: [{(name): haos-underlay, macAddress: …}]` — or
 * by a foreach entry's precondition on the list's element — `list: request.object…interfaces`,
 * `{{ element.name }} Equals haos-underlay`, then a JSON patch at `{{ elementIndex }}` — changes
 * nothing when no item of the object it targets has that name, and Kyverno says nothing (anchor
 * and precondition are conditions, not errors). The objects a rule targets are looked for among
 * every object of the run, rendered ones included (the VirtualMachine CozyStack's chart renders
 * from a VMInstance), so a renamed NIC or a typo in the policy is found before merge.
 *
 * kyverno/crd-list-patch: an anchored list item in a patchStrategicMerge whose rule patches a
 * custom resource. Kyverno's strategic merge is kustomize's, which merges a list item by item only
 * where the built-in OpenAPI schema names a merge key — built-in kinds only: a custom resource's
 * list is REPLACED by the patch's items, so the other items and every field the patch does not
 * repeat are dropped (kyverno/kyverno#1955; the maintainers' fix is foreach + patchesJson6902).
 */

interface Anchor {
  /** Pointer of the list in the patched object, e.g. /spec/template/spec/domain/devices/interfaces. */
  listPointer: string;
  /** Pointer in the policy of what names the item (the anchor key, the precondition's value). */
  patchPointer: string;
  key: string;
  /** The item matches when its `key` is one of these. */
  values: string[];
  /** How the policy names the item, for messages. */
  label: string;
  /** A strategic-merge anchor (a precondition is not one). */
  anchored: boolean;
}

const anchorKey = /^\((.+)\)$/;

const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** Every conditional anchor on a list item in a strategic-merge patch. */
function anchorsOf(patch: unknown, objectPointer = "", patchPointer = ""): Anchor[] {
  const out: Anchor[] = [];
  if (Array.isArray(patch)) {
    patch.forEach((item, i) => {
      if (item && typeof item === "object" && !Array.isArray(item)) {
        for (const [k, v] of Object.entries(item)) {
          const m = anchorKey.exec(k);
          // A value with a variable (`{{ element.name }}` in a foreach) is only known to Kyverno.
          if (m?.[1] && isScalar(v) && !String(v).includes("{{"))
            out.push({
              listPointer: objectPointer,
              patchPointer: `${patchPointer}/${i}/${pointerSegment(k)}`,
              key: m[1],
              values: [String(v)],
              label: `(${m[1]}): ${String(v)}`,
              anchored: true,
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

/** A foreach `list` over a field of the object: `request.object.a.b` or, mutate-existing, `target.a.b`. */
const foreachList = /^\s*(?:request\.object|target)\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*$/;
/** A precondition key on a field of the foreach element: `{{ element.name }}`. */
const elementKey = /^\{\{\s*element\.([A-Za-z0-9_-]+)\s*\}\}$/;

/**
 * The conditions of a foreach entry's preconditions that every element must meet: `all`, the
 * legacy plain list, or an `any` of a single condition (with more, none of them is required).
 */
function requiredConditions(
  preconditions: unknown,
  pointer: string,
): { condition: unknown; pointer: string }[] {
  const listed = (list: unknown, at: string) =>
    Array.isArray(list) ? list.map((condition, i) => ({ condition, pointer: `${at}/${i}` })) : [];
  if (Array.isArray(preconditions)) return listed(preconditions, pointer);
  const any = field(preconditions, "any");
  return [
    ...listed(field(preconditions, "all"), `${pointer}/all`),
    ...(Array.isArray(any) && any.length === 1 ? listed(any, `${pointer}/any`) : []),
  ];
}

/**
 * The list items a foreach entry patches, when its preconditions name them: a list over a field
 * of the object and a precondition `{{ element.<key> }}` Equals a value (or In/AnyIn values).
 */
function foreachSelectors(entry: unknown, entryPointer: string): Anchor[] {
  if (field(entry, "patchesJson6902") === undefined && field(entry, "patchStrategicMerge") === undefined)
    return [];
  const list = foreachList.exec(stringField(entry, "list") ?? "");
  if (!list?.[1]) return [];
  const listPointer = list[1]
    .split(".")
    .map((segment) => `/${pointerSegment(segment)}`)
    .join("");
  const out: Anchor[] = [];
  for (const { condition, pointer } of requiredConditions(
    field(entry, "preconditions"),
    `${entryPointer}/preconditions`,
  )) {
    const key = elementKey.exec(stringField(condition, "key") ?? "")?.[1];
    const operator = stringField(condition, "operator") ?? "";
    const value = field(condition, "value");
    if (!key) continue;
    let values: string[] | undefined;
    if (operator === "Equals" && isScalar(value)) values = [String(value)];
    else if ((operator === "In" || operator === "AnyIn") && Array.isArray(value) && value.every(isScalar))
      values = value.map(String);
    if (!values || values.length === 0 || values.some((v) => v.includes("{{"))) continue;
    out.push({
      listPointer,
      patchPointer: `${pointer}/value`,
      key,
      values,
      label: `foreach precondition {{ element.${key} }} ${operator} ${values.join(", ")}`,
      anchored: false,
    });
  }
  return out;
}

/** Every item a mutate rule patches by name: its strategic-merge anchors and its foreach preconditions. */
function selectorsOf(mutate: unknown, mutatePointer: string): Anchor[] {
  const out: Anchor[] = [];
  const patch = field(mutate, "patchStrategicMerge");
  if (patch && typeof patch === "object")
    out.push(...anchorsOf(patch, "", `${mutatePointer}/patchStrategicMerge`));
  const foreach = field(mutate, "foreach");
  if (Array.isArray(foreach))
    foreach.forEach((entry, i) => {
      const entryPointer = `${mutatePointer}/foreach/${i}`;
      out.push(...foreachSelectors(entry, entryPointer));
      const entryPatch = field(entry, "patchStrategicMerge");
      if (entryPatch && typeof entryPatch === "object")
        out.push(...anchorsOf(entryPatch, "", `${entryPointer}/patchStrategicMerge`));
    });
  return out;
}

/**
 * Whether an API group is a custom resource's. A CRD's group must contain a dot (the API server
 * rejects one without) and `*.k8s.io` / `*.kubernetes.io` are reserved for the Kubernetes project,
 * so a dotted group outside those is a custom resource. The kinds Kyverno knows merge keys of are
 * the built-in ones of its OpenAPI schema; a few CRDs do live under k8s.io (Gateway API, volume
 * snapshots): this misses them (no warning), it never warns on a built-in kind. Reading the
 * validate run's schema catalog instead would take wiring the catalog into every platform rule.
 */
const isCustomGroup = (group: string) =>
  group.includes(".") && !group.endsWith(".k8s.io") && !group.endsWith(".kubernetes.io");

/** The custom resource kinds a rule patches (`Kind (group)`): its match kinds, targets and the objects it matched. */
function customKindsOf(rule: unknown, mutate: unknown, matched: readonly Subject[]): string[] {
  const out = new Set<string>();
  for (const filter of matchFilters(field(rule, "match")))
    for (const entry of strings(field(filter, "kinds"))) {
      const parts = entry.split("/");
      const kind = parts.pop() ?? "";
      // `group/version/Kind`, or `group/Kind` when the first part is dotted (else it is a version).
      const group =
        parts.length === 2 ? parts[0] : parts.length === 1 && parts[0]?.includes(".") ? parts[0] : undefined;
      if (group && isCustomGroup(group)) out.add(`${kind} (${group})`);
    }
  const targets = field(mutate, "targets");
  if (Array.isArray(targets))
    for (const t of targets) {
      const group = apiGroup(stringField(t, "apiVersion") ?? "");
      if (isCustomGroup(group)) out.add(`${stringField(t, "kind") ?? "*"} (${group})`);
    }
  for (const s of matched)
    if (isCustomGroup(apiGroup(s.apiVersion))) out.add(`${s.kind} (${apiGroup(s.apiVersion)})`);
  return [...out];
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
      const anchors = selectorsOf(mutate, `/spec/rules/${r}/mutate`);
      if (anchors.length === 0) return;
      const targetList = field(mutate, "targets");
      const targets = context.subjects.filter((s) =>
        Array.isArray(targetList) && targetList.length > 0
          ? targetList.some((t) => targetMatches(t, s))
          : matchFilters(field(rule, "match")).some((f) => filterMatches(f, s)),
      );
      const ruleName = stringField(rule, "name") ?? `#${r + 1}`;
      const custom = customKindsOf(rule, mutate, targets);
      if (custom.length > 0)
        for (const anchor of anchors.filter((a) => a.anchored)) {
          const where = anchor.listPointer.replace(/\/\*/g, "[]");
          findings.push(
            finding(
              "kyverno/crd-list-patch",
              at(policy, anchor.patchPointer),
              `${policy.kind} ${policy.name} rule ${ruleName}: the anchor ${anchor.label} picks an item of ${where} in ${custom.join(", ")}, a custom resource: Kyverno's patchStrategicMerge knows no merge key for a custom resource's list and REPLACES the whole list with the patch's items, dropping the other items and every field the patch does not repeat`,
              `patch the item with a foreach over the list (list: ${Array.isArray(targetList) && targetList.length > 0 ? "target" : "request.object"}${where.replace(/\//g, ".")}; a precondition "{{ element.${anchor.key} }}" Equals ${anchor.values[0]}) and a patchesJson6902 at ${where.replace(/\[\]/g, "/*")}/{{ elementIndex }}/<field> (kyverno/kyverno#1955)`,
            ),
          );
        }
      for (const target of targets) {
        for (const anchor of anchors) {
          const lists = valuesAt(target.object, anchor.listPointer).filter(Array.isArray) as unknown[][];
          if (lists.length === 0) continue; // no such list: the patch adds it, no anchor to miss
          const present = lists.some((list) =>
            list.some((item) => anchor.values.includes(String(field(item, anchor.key)))),
          );
          if (present) continue;
          const names = lists
            .flatMap((list) => list.map((item) => field(item, anchor.key)))
            .filter((v) => v !== undefined)
            .map(String);
          const where = anchor.listPointer.replace(/\/\*/g, "[]");
          const policyAt = at(policy, anchor.patchPointer);
          const what = anchor.anchored ? "the anchor" : "the precondition's value";
          findings.push(
            finding(
              "kyverno/anchor",
              policyAt,
              `${policy.kind} ${policy.name} rule ${ruleName}: ${anchor.label} matches no item of ${where} in ${describeSubject(target)} (it has ${names.length > 0 ? names.join(", ") : "none"}): Kyverno skips the patch silently`,
              `rename ${what} to one of ${names.join(", ") || "the object's items"}, or the item back to ${anchor.values.join(" or ")}`,
            ),
          );
          if (target.file !== policy.file) {
            const key = `${target.kind}\u0000${target.namespace}\u0000${target.name}\u0000${anchor.listPointer}\u0000${anchor.key}\u0000${anchor.values.join("\u0000")}`;
            const entry = targetSide.get(key) ?? { target, anchor, where, places: [] };
            entry.places.push(`${policy.kind} ${policy.name} (${policyAt.file}:${policyAt.line})`);
            targetSide.set(key, entry);
          }
        }
      }
    });
  }
  for (const { target, anchor, where, places } of targetSide.values()) {
    const names = anchor.values.join(" or ");
    findings.push(
      finding(
        "kyverno/anchor",
        at(target, anchor.listPointer.replace(/\/\*.*$/, "")),
        `${describeSubject(target)}: no item of ${where} has ${anchor.key} ${names}, which ${[...new Set(places)].join(" and ")} patch${places.length === 1 ? "es" : ""}: Kyverno skips the patch silently`,
        `keep the ${anchor.key} ${names}, or change the policy's ${anchor.anchored ? "anchor" : "foreach precondition"} to match`,
      ),
    );
  }
  return findings;
}
