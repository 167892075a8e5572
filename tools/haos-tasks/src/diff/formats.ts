import type { DiffResult } from "./diff.ts";

/**
 * `--format json`: every object change (kind, namespace, name, change, owner, changed field paths
 * and the redacted unified diff), every danger (code, object, field, message, hint), every owner
 * with its status and render errors, and one line per HelmRelease.
 */
export function diffJson(result: DiffResult): unknown {
  return {
    base: result.base,
    head: result.head,
    paths: result.paths,
    changedFiles: result.changedFiles,
    routine: result.routine,
    totals: result.totals,
    owners: result.apps.map((app) => ({
      ...app.owner,
      status: app.status,
      added: app.resources.filter((r) => r.change === "added").length,
      changed: app.resources.filter((r) => r.change === "changed").length,
      removed: app.resources.filter((r) => r.change === "removed").length,
      errors: app.errors,
    })),
    changes: result.apps.flatMap((app) =>
      app.resources.map((r) => ({
        kind: r.kind,
        apiVersion: r.apiVersion,
        ...(r.namespace ? { namespace: r.namespace } : {}),
        name: r.name,
        change: r.change,
        owner: r.owner,
        paths: r.paths,
        diff: r.diff,
      })),
    ),
    dangers: result.dangers.map((d) => ({
      code: d.code,
      object: d.object,
      ...(d.owner ? { owner: d.owner } : {}),
      field: d.field,
      message: d.message,
      hint: d.hint,
    })),
    helmReleases: result.helmReleases,
  };
}

/** `--format diff`: one unified diff for the terminal, dangers and render failures as `#` lines first. */
export function diffUnified(result: DiffResult): string {
  const lines: string[] = [];
  for (const d of result.dangers) {
    lines.push(
      `# DANGER ${d.code} ${d.object}${d.field ? ` ${d.field}` : ""}: ${d.message.replaceAll("\n", " ")}`,
    );
    lines.push(`#   what to do: ${d.hint}`);
  }
  for (const h of result.helmReleases) lines.push(`# ${h.release}: ${h.line}`);
  for (const app of result.apps) {
    for (const e of app.errors)
      lines.push(`# ${app.owner.id}: ${e.side} does not render: ${e.message.replaceAll("\n", " ")}`);
  }
  if (result.routine) lines.push("# routine: only image and chart versions move");
  let text = lines.length > 0 ? `${lines.join("\n")}\n` : "";
  for (const app of result.apps) {
    for (const r of app.resources) text += r.diff.endsWith("\n") ? r.diff : `${r.diff}\n`;
  }
  return text;
}
