import { isRecord } from "../../src/schemas/convert/types.ts";

/**
 * Kyverno's `patchStrategicMerge` for what this app's policies use (Kyverno cannot run here; the
 * merge is small enough to state): maps merge key by key; in a list, a patch element with a
 * conditional anchor `(key): value` patches the target element whose `key` equals `value`, and an
 * anchor that matches no element patches nothing (Kyverno skips it silently: `unmatched` names it,
 * so a test can fail on a policy that no longer fits what the chart renders); other lists and
 * scalars replace. https://kyverno.io/docs/policy-types/cluster-policy/mutate/#strategic-merge-patch
 */
export function kyvernoMerge(
  target: unknown,
  patch: unknown,
  at = "",
): { result: unknown; unmatched: string[] } {
  const unmatched: string[] = [];
  const merge = (t: unknown, p: unknown, where: string): unknown => {
    if (isRecord(p) && isRecord(t)) {
      const out: Record<string, unknown> = { ...t };
      for (const [k, v] of Object.entries(p)) out[k] = k in t ? merge(t[k], v, `${where}.${k}`) : v;
      return out;
    }
    if (Array.isArray(p) && Array.isArray(t) && p.some((e) => isRecord(e) && anchorOf(e))) {
      const out = [...t];
      for (const element of p) {
        const anchor = isRecord(element) ? anchorOf(element) : undefined;
        if (!anchor || !isRecord(element)) {
          out.push(element);
          continue;
        }
        const { [`(${anchor.key})`]: _anchor, ...fields } = element;
        const index = out.findIndex((e) => isRecord(e) && e[anchor.key] === anchor.value);
        if (index < 0) unmatched.push(`${where}[(${anchor.key})=${String(anchor.value)}]`);
        else out[index] = merge(out[index], fields, `${where}[${index}]`);
      }
      return out;
    }
    return p;
  };
  return { result: merge(target, patch, at), unmatched };
}

function anchorOf(element: Record<string, unknown>): { key: string; value: unknown } | undefined {
  for (const [k, v] of Object.entries(element)) {
    const m = /^\((.+)\)$/.exec(k);
    if (m?.[1]) return { key: m[1], value: v };
  }
  return undefined;
}
