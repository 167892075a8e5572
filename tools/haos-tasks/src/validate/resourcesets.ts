import { apiGroup, field } from "../manifests/resources.ts";

/**
 * flux-operator's ResourceSet (fluxcd.controlplane.io) generates objects from `spec.resources`
 * templates, once per input (`spec.inputs`, and the inputs ResourceSetInputProviders give through
 * `spec.inputsFrom`). Templates are Go text/template with `<<` `>>` delimiters and sprig functions;
 * validate expands the plain ones — `<< inputs.x.y >>`, piped through quote, squote, lower, upper,
 * trim or `default "…"` — enough to see which Flux Kustomizations and sources a ResourceSet
 * creates. Anything else (inputs only the cluster knows, `resourcesTemplate`, `if`/`range`, other
 * functions, `inputs.id`) is said, never guessed.
 */
export type ResourceSetExpansion =
  | { objects: GeneratedObject[] }
  | {
      /** Why the generated objects cannot be known offline. */
      unknown: string;
    };

export interface GeneratedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  object: Record<string, unknown>;
  /** Index in spec.resources: the template is at `/spec/resources/<index>`. */
  index: number;
}

export const isResourceSet = (o: { apiVersion: string; kind: string }) =>
  apiGroup(o.apiVersion) === "fluxcd.controlplane.io" && o.kind === "ResourceSet";

/** The first template construct validate does not expand, once one is met. */
interface Problem {
  problem?: string;
}

const expression = /<<-?\s*(.*?)\s*-?>>/g;

/** The value of one `<< … >>` expression for one input. */
function evaluate(text: string, inputs: Record<string, unknown>, out: Problem): string {
  const unsupported = (what: string) => {
    out.problem ??= what;
    return "";
  };
  const [head = "", ...pipes] = text.split("|").map((p) => p.trim());
  const path = /^\.?inputs((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)$/.exec(head);
  if (!path?.[1]) return unsupported(`the template expression << ${text} >>`);
  const keys = path[1].slice(1).split(".");
  // flux-operator adds `id` (a checksum of the input) to each input: not computed here.
  if (keys[0] === "id" && !Object.hasOwn(inputs, "id")) return unsupported("inputs.id");
  let value: unknown = field(inputs, ...keys);
  for (const pipe of pipes) {
    const def = /^default\s+"((?:[^"\\]|\\.)*)"$/.exec(pipe);
    if (def) value = value === undefined || value === null || value === "" ? (def[1] ?? "") : value;
    else if (pipe === "quote" || pipe === "squote") value = value ?? "";
    else if (pipe === "lower") value = String(value ?? "").toLowerCase();
    else if (pipe === "upper") value = String(value ?? "").toUpperCase();
    else if (pipe === "trim") value = String(value ?? "").trim();
    else return unsupported(`the template function ${pipe.split(/\s/)[0]}`);
  }
  // Go prints a missing map key as "<no value>"; flux-operator fails the ResourceSet on it.
  if (value === undefined) return unsupported(`${head}, which its inputs do not all set`);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** The template with every `<< … >>` of one input filled in (strings and keys, at any depth). */
function fill(value: unknown, inputs: Record<string, unknown>, out: Problem): unknown {
  if (typeof value === "string")
    return value.includes("<<")
      ? value.replace(expression, (_, e: string) => evaluate(e, inputs, out))
      : value;
  if (Array.isArray(value)) return value.map((v) => fill(v, inputs, out));
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [fill(k, inputs, out) as string, fill(v, inputs, out)]),
    );
  return value;
}

// Sources, builds, clusters and references each ask: one expansion per object and namespace.
const expanded = new WeakMap<object, Map<string, ResourceSetExpansion>>();

/** The objects a ResourceSet generates, or why they cannot be known offline. */
export function expandResourceSet(resourceSet: {
  namespace: string;
  object: Record<string, unknown>;
}): ResourceSetExpansion {
  const byNamespace = expanded.get(resourceSet.object) ?? new Map<string, ResourceSetExpansion>();
  expanded.set(resourceSet.object, byNamespace);
  const known = byNamespace.get(resourceSet.namespace);
  if (known) return known;
  const expansion = expand(resourceSet);
  byNamespace.set(resourceSet.namespace, expansion);
  return expansion;
}

function expand(resourceSet: { namespace: string; object: Record<string, unknown> }): ResourceSetExpansion {
  const spec = field(resourceSet.object, "spec");
  const inputsFrom = field(spec, "inputsFrom");
  if (Array.isArray(inputsFrom) && inputsFrom.length > 0)
    return { unknown: "its inputs come from ResourceSetInputProviders, known only in the cluster" };
  if (typeof field(spec, "resourcesTemplate") === "string")
    return { unknown: "spec.resourcesTemplate is a Go template validate does not run" };
  const resources = field(spec, "resources");
  if (!Array.isArray(resources)) return { objects: [] };
  const given = field(spec, "inputs");
  // Without inputs the resources are generated once.
  const inputs: Record<string, unknown>[] = Array.isArray(given)
    ? given.filter((i): i is Record<string, unknown> => !!i && typeof i === "object" && !Array.isArray(i))
    : [{}];
  const objects: GeneratedObject[] = [];
  const out: Problem = {};
  for (const input of inputs) {
    resources.forEach((template, index) => {
      if (!template || typeof template !== "object" || Array.isArray(template)) return;
      const object = fill(template, input, out) as Record<string, unknown>;
      const apiVersion = field(object, "apiVersion");
      const kind = field(object, "kind");
      const name = field(object, "metadata", "name");
      if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string") return;
      // An object without a namespace is created in the ResourceSet's (flux-operator's default
      // for namespaced kinds).
      const namespace = field(object, "metadata", "namespace");
      objects.push({
        apiVersion,
        kind,
        name,
        namespace: typeof namespace === "string" ? namespace : resourceSet.namespace,
        object,
        index,
      });
    });
  }
  if (out.problem !== undefined) return { unknown: `its templates use ${out.problem}` };
  return { objects };
}
