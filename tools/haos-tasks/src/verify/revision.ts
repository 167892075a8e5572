/** A Flux artifact revision, parsed: `main@sha1:<hex>`, `sha1:<hex>`, `sha256:<hex>`, `main/<hex>`. */
export interface FluxRevision {
  /** The ref part (`main`, `refs/heads/main`), when present. */
  ref?: string;
  algorithm: "sha1" | "sha256";
  /** Lower-case hex digest. */
  digest: string;
}

const hex = /^[0-9a-f]+$/;

/**
 * Parses a Flux revision string, splitting on the last `@` and the last `:` (refs may contain
 * both `/` and `@`). Old controllers wrote `<branch>/<sha>`. Returns undefined for anything else.
 */
export function parseFluxRevision(revision: string | undefined): FluxRevision | undefined {
  if (!revision) return undefined;
  const at = revision.lastIndexOf("@");
  const ref = at >= 0 ? revision.slice(0, at) : undefined;
  const rest = at >= 0 ? revision.slice(at + 1) : revision;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    const algorithm = rest.slice(0, colon);
    const digest = rest.slice(colon + 1).toLowerCase();
    if ((algorithm !== "sha1" && algorithm !== "sha256") || !hex.test(digest)) return undefined;
    if (digest.length !== (algorithm === "sha1" ? 40 : 64)) return undefined;
    return { ...(ref ? { ref } : {}), algorithm, digest };
  }
  if (at >= 0) return undefined;
  const slash = revision.lastIndexOf("/");
  const legacy = revision.slice(slash + 1).toLowerCase();
  if (slash > 0 && hex.test(legacy) && (legacy.length === 40 || legacy.length === 64)) {
    return {
      ref: revision.slice(0, slash),
      algorithm: legacy.length === 40 ? "sha1" : "sha256",
      digest: legacy,
    };
  }
  return undefined;
}

/** The commit a revision string names, or undefined. */
export function commitOf(revision: string | undefined): string | undefined {
  return parseFluxRevision(revision)?.digest;
}

/** How an observed commit relates to the target: the target itself, a later commit built on it, or neither. */
export type CommitRelation = "same" | "descendant" | "other" | "unknown";

/** Decides ancestry for commits other than the target (a git lookup at the edge, cached). */
export type RelationOf = (commit: string) => CommitRelation | undefined;

/** The relation of a revision string to the target; undefined while ancestry is still being looked up. */
export function relationOf(target: string, revision: string | undefined, lookup: RelationOf): CommitRelation {
  const commit = commitOf(revision);
  if (!commit) return "other";
  if (commit === target) return "same";
  return lookup(commit) ?? "unknown";
}
