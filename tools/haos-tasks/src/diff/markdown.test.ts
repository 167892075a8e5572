import { describe, expect, it } from "vitest";
import type { Danger } from "./dangers.ts";
import type { DiffResult } from "./diff.ts";
import { DIFF_MARKER, renderDiffMarkdown } from "./markdown.ts";

const sha = (c: string) => c.repeat(40);

function result(dangers: Danger[], objects: number, lines: number): DiffResult {
  const resources = Array.from({ length: objects }, (_, i) => ({
    key: `ConfigMap/ns/cm-${i}`,
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace: "ns",
    name: `cm-${i}`,
    change: "changed" as const,
    owner: "Kustomization/flux-system/apps",
    paths: ["data.k"],
    diff: `--- base/ConfigMap/ns/cm-${i}\n+++ head/ConfigMap/ns/cm-${i}\n@@ -1 +1 @@\n${"-  k: a\n+  k: b\n".repeat(lines)}`,
  }));
  return {
    base: { ref: "main", sha: sha("a") },
    head: { ref: "HEAD", sha: sha("b") },
    paths: ["."],
    changedFiles: 1,
    apps: [
      {
        path: "apps",
        owner: {
          id: "Kustomization/flux-system/apps",
          kind: "Kustomization",
          name: "apps",
          namespace: "flux-system",
          path: "apps",
        },
        status: "changed",
        resources,
        errors: [],
      },
    ],
    dangers,
    helmReleases: [],
    totals: { added: 0, changed: objects, removed: 0 },
    routine: false,
  };
}

const danger = (i: number): Danger => ({
  code: "immutable-field",
  object: `Service/ns/svc-${i}`,
  owner: "Kustomization/flux-system/apps",
  field: "spec.clusterIP",
  message: "a Service's clusterIP is immutable | with a pipe and `ticks` <b>",
  hint: "recreate it",
});

describe("renderDiffMarkdown", () => {
  it("puts the dangers first, as GitHub alerts, escaping what the data holds", () => {
    const text = renderDiffMarkdown(result([danger(1)], 1, 1));
    expect(text.startsWith(`${DIFF_MARKER}\n`)).toBe(true);
    const alert = text.indexOf("> [!CAUTION]\n> **immutable-field** · `Service/ns/svc-1` `spec.clusterIP`");
    expect(alert).toBeGreaterThan(0);
    expect(alert).toBeLessThan(text.indexOf("| owner |"));
    expect(text).toContain("immutable \\| with a pipe and `ticks` &lt;b&gt;");
    expect(text).toContain("**+0 added · ~1 changed · −0 removed** · ⚠️ 1 danger");
  });

  it("stays within the budget when the dangers alone exceed it, and counts what it left out", () => {
    const text = renderDiffMarkdown(
      result(
        Array.from({ length: 2000 }, (_, i) => danger(i)),
        50,
        200,
      ),
      {
        maxChars: 30_000,
      },
    );
    expect(text.length).toBeLessThanOrEqual(30_000);
    expect(text).toMatch(/> \d+ more dangers not shown here \(immutable-field Service\/ns\/svc-\d+;/);
    expect(text).toMatch(/Output capped at 30,000 characters: 50 object diffs not shown/);
    expect(text).toContain(`Full diff: \`haos-tasks diff --base ${sha("a")} --head ${sha("b")}\``);
  });
});
