import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sampleApp } from "../../test/support/sample-app.ts";
import { createScratchRepo, type ScratchRepo } from "../../test/support/scratch-repo.ts";
import { main } from "../cli/main.ts";
import { diffApps } from "./diff.ts";
import { DIFF_MARKER, renderDiffMarkdown } from "./markdown.ts";

let repo: ScratchRepo | undefined;
afterEach(() => repo?.remove());

function setup(): { repo: ScratchRepo; base: string } {
  repo = createScratchRepo();
  repo.write(sampleApp);
  const base = repo.commit("feat: demo app");
  return { repo, base };
}

async function runCli(cwd: string, args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(["diff", ...args], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: process.env,
    cwd,
    isTTY: false,
  });
  return { code, stdout, stderr };
}

describe("diffApps on a real git repository, rendered by validate's build stage", () => {
  it("shows a change in a base through the overlay that loads it, keyed by kind/namespace/name", async () => {
    const { repo, base } = setup();
    repo.write({
      "apps/demo/base/configmap.yaml": sampleApp["apps/demo/base/configmap.yaml"].replace("blue", "green"),
    });
    repo.commit("feat: green");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.apps.map((a) => [a.path, a.status])).toEqual([["apps/demo/overlays/prod", "changed"]]);
    const [change] = result.apps[0]?.resources ?? [];
    expect(change?.key).toBe("ConfigMap/demo/demo");
    expect(change?.change).toBe("changed");
    expect(change?.diff).toContain("-  mode: blue\n+  mode: green\n");
    expect(change?.diff).toMatch(/^--- base\/ConfigMap\/demo\/demo\n\+\+\+ head\/ConfigMap\/demo\/demo\n@@ /);
  });

  it("attributes a change in a base referenced with a trailing slash to the overlay that loads it", async () => {
    const { repo } = setup();
    const overlay = "apps/demo/overlays/prod/kustomization.yaml";
    repo.write({ [overlay]: sampleApp[overlay].replace("../../base", "../../base/") });
    const base = repo.commit("chore: trailing slash");
    repo.write({
      "apps/demo/base/configmap.yaml": sampleApp["apps/demo/base/configmap.yaml"].replace("blue", "green"),
    });
    repo.commit("feat: green");
    const result = await diffApps({
      env: process.env,
      repo: repo.dir,
      base,
      head: "HEAD",
      paths: [],
      context: 20,
    });
    expect(result.apps.map((a) => [a.path, a.status])).toEqual([["apps/demo/overlays/prod", "changed"]]);
    // The overlay's commonLabels are on the object: what Flux applies, not the bare base.
    expect(result.apps[0]?.resources[0]?.diff).toContain("env: prod");
  });

  it("redacts Secret values on both sides but still shows which key changed", async () => {
    const { repo, base } = setup();
    repo.write({
      "apps/demo/base/secret.yaml": sampleApp["apps/demo/base/secret.yaml"].replace(
        "hunter2-base",
        "s3cret-head",
      ),
    });
    repo.commit("fix: rotate");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: ["apps"] });
    const text = JSON.stringify(result) + renderDiffMarkdown(result);
    expect(text).not.toContain("hunter2-base");
    expect(text).not.toContain("s3cret-head");
    const diff = result.apps[0]?.resources[0]?.diff ?? "";
    expect(diff).toContain("-  password: <redacted>\n+  password: <redacted, changed>\n");
    expect(diff).not.toMatch(/[-+] {2}user:/);
  });

  it("redacts a Secret's last-applied-configuration and any annotation that embeds its values", async () => {
    const { repo } = setup();
    const exported = (token: string, stale: string) =>
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: exported",
        "  namespace: demo",
        "  annotations:",
        "    kubectl.kubernetes.io/last-applied-configuration: |",
        `      {"apiVersion":"v1","data":{"token":"${token}"},"kind":"Secret","metadata":{"name":"exported"}}`,
        `    note: copied from ${stale}`,
        "    owner: platform",
        "data:",
        `  token: ${token}`,
        "",
      ].join("\n");
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    repo.write({
      "apps/demo/base/kustomization.yaml":
        "resources:\n  - configmap.yaml\n  - secret.yaml\n  - exported.yaml\n",
      "apps/demo/base/exported.yaml": exported(b64("token-base"), "token-base"),
    });
    const base = repo.commit("feat: exported secret");
    repo.write({ "apps/demo/base/exported.yaml": exported(b64("token-head"), "token-base") });
    repo.commit("fix: rotate exported");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    const text = JSON.stringify(result) + renderDiffMarkdown(result);
    for (const secret of ["token-base", "token-head", b64("token-base"), b64("token-head")]) {
      expect(text).not.toContain(secret);
    }
    const diff = result.apps[0]?.resources.find((r) => r.key === "Secret/demo/exported")?.diff ?? "";
    expect(diff).toContain(
      "-    kubectl.kubernetes.io/last-applied-configuration: <redacted>\n" +
        "+    kubectl.kubernetes.io/last-applied-configuration: <redacted, changed>\n",
    );
    // The note still holds the base's value at head: redacted on both sides, and unchanged.
    expect(diff).toContain("     note: <redacted>\n");
    expect(diff).toContain("     owner: platform\n");
  });

  it("reports added and removed apps and a head that does not build (exit 1 from the CLI)", async () => {
    const { repo, base } = setup();
    repo.write({
      "apps/demo/overlays/prod": null,
      "apps/other/kustomization.yaml": "resources:\n  - cm.yaml\n",
      "apps/other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
      "apps/broken/kustomization.yaml": "resources:\n  - missing.yaml\n",
    });
    repo.commit("feat: reshuffle");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: ["apps/"] });
    const byPath = Object.fromEntries(result.apps.map((a) => [a.path, a]));
    expect(byPath["apps/other"]?.status).toBe("added");
    expect(byPath["apps/other"]?.resources.map((r) => `${r.change} ${r.key}`)).toEqual([
      "added ConfigMap/other",
    ]);
    expect(byPath["apps/demo/overlays/prod"]?.status).toBe("removed");
    expect(byPath["apps/broken"]?.status).toBe("error");
    expect(byPath["apps/broken"]?.errors[0]?.message).toContain("missing.yaml");
    expect(byPath["apps/broken"]?.errors[0]?.message).not.toContain("haos-tasks-diff-");
    const cli = await runCli(repo.dir, ["--base", base, "--path", "apps"]);
    expect(cli.code).toBe(1);
    expect(cli.stdout.startsWith(DIFF_MARKER)).toBe(true);
    expect(cli.stdout).toContain("| `apps/broken` | `apps/broken` | ❌ does not render at head |");
    // One render failure, not its objects removed.
    expect(result.dangers.filter((d) => d.code === "render-failure").map((d) => d.object)).toEqual([
      "apps/broken",
    ]);
  });

  it("finds an app through every file its kustomization loads from outside its directory", async () => {
    const { repo } = setup();
    const shared = {
      "shared/labels.yaml":
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: labels\nlabels:\n  team: a\nfieldSpecs:\n  - path: metadata/labels\n    create: true\n",
      "shared/generator.yaml":
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: generated\noptions:\n  disableNameSuffixHash: true\nliterals:\n  - level=1\n",
      "shared/replacement.yaml":
        "- source:\n    kind: ConfigMap\n    name: generated\n    fieldPath: data.level\n  targets:\n    - select:\n        name: cm\n      fieldPaths:\n        - data.key\n",
      "shared/configuration.yaml":
        "nameReference:\n  - kind: ConfigMap\n    fieldSpecs:\n      - path: data/ref\n        kind: ConfigMap\n",
      "shared/values.yaml": "replicas: 1\n",
      "shared/validator.yaml": "apiVersion: example.com/v1\nkind: Validator\nmetadata:\n  name: check\n",
    };
    repo.write({
      ...shared,
      "apps/loader/kustomization.yaml": [
        "resources:\n  - cm.yaml",
        "transformers:\n  - ../../shared/labels.yaml",
        "generators:\n  - ../../shared/generator.yaml",
        "replacements:\n  - path: ../../shared/replacement.yaml",
        "configurations:\n  - ../../shared/configuration.yaml\n",
      ].join("\n"),
      "apps/loader/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  key: one\n",
      // Neither builds here (no --enable-helm, no validator plugin); they must still be found.
      "apps/chart/kustomization.yaml":
        "helmCharts:\n  - name: demo\n    valuesFile: ../../shared/values.yaml\n",
      "apps/checked/kustomization.yaml":
        "resources:\n  - ../loader\nvalidators:\n  - ../../shared/validator.yaml\n",
    });
    repo.commit("feat: shared configs");
    const expected: Record<keyof typeof shared, string> = {
      "shared/labels.yaml": "apps/checked",
      "shared/generator.yaml": "apps/checked",
      "shared/replacement.yaml": "apps/checked",
      "shared/configuration.yaml": "apps/checked",
      "shared/values.yaml": "apps/chart",
      "shared/validator.yaml": "apps/checked",
    };
    for (const [file, app] of Object.entries(expected)) {
      repo.write({ [file]: `${shared[file as keyof typeof shared]}# touched\n` });
      const before = repo.git("rev-parse", "HEAD");
      repo.commit(`chore: touch ${file}`);
      const result = await diffApps({
        env: process.env,
        repo: repo.dir,
        base: before,
        head: "HEAD",
        paths: [],
      });
      expect(
        result.apps.map((a) => a.path),
        file,
      ).toEqual([app]);
    }
  });

  it("shows a build failure on either side without a resource diff for that app", async () => {
    const { repo, base } = setup();
    const overlay = "apps/demo/overlays/prod/kustomization.yaml";
    repo.write({ [overlay]: `${sampleApp[overlay]}patches:\n  - path: missing-patch.yaml\n` });
    const broken = repo.commit("feat: patch that is not there");
    const breaks = await diffApps({ env: process.env, repo: repo.dir, base, head: broken, paths: [] });
    expect(breaks.apps).toMatchObject([{ path: "apps/demo/overlays/prod", status: "error", resources: [] }]);
    expect(breaks.apps[0]?.errors.map((e) => e.side)).toEqual(["head"]);
    expect(breaks.apps[0]?.errors[0]?.message).toContain("missing-patch.yaml");

    repo.write({ [overlay]: sampleApp[overlay] });
    repo.commit("fix: drop the patch");
    const fixes = await diffApps({ env: process.env, repo: repo.dir, base: broken, head: "HEAD", paths: [] });
    expect(fixes.apps).toMatchObject([{ path: "apps/demo/overlays/prod", status: "changed", resources: [] }]);
    expect(fixes.apps[0]?.errors.map((e) => e.side)).toEqual(["base"]);
    const markdown = renderDiffMarkdown(fixes);
    expect(markdown).toContain(
      "| `apps/demo/overlays/prod` | `apps/demo/overlays/prod` | renders again | 0 | 0 | 0 |",
    );
    expect(markdown).toContain("**`apps/demo/overlays/prod`: base does not render:**");
    expect((await runCli(repo.dir, ["--base", broken])).code).toBe(0);
  });

  it("compares from the merge base: changes that only the base branch made are not shown", async () => {
    const { repo, base } = setup();
    repo.branch("feature");
    repo.write({
      "apps/demo/base/configmap.yaml": sampleApp["apps/demo/base/configmap.yaml"].replace("'1'", "'2'"),
    });
    repo.commit("feat: level 2");
    repo.git("checkout", "--quiet", "main");
    repo.write({ "apps/main-only/kustomization.yaml": "resources: []\n" });
    repo.commit("chore: main moves on");
    const result = await diffApps({
      env: process.env,
      repo: repo.dir,
      base: "main",
      head: "feature",
      paths: [],
    });
    expect(result.base.sha).toBe(base);
    expect(result.apps.map((a) => a.path)).toEqual(["apps/demo/overlays/prod"]);
  });

  it("diffs the whole repository when run from a subdirectory of it", async () => {
    const { repo, base } = setup();
    repo.write({
      "apps/demo/base/configmap.yaml": sampleApp["apps/demo/base/configmap.yaml"].replace("blue", "green"),
    });
    repo.commit("feat: green");
    const cli = await runCli(path.join(repo.dir, "apps", "demo"), ["--base", base, "--format", "json"]);
    expect(cli.stderr).toBe("");
    const result = JSON.parse(cli.stdout) as {
      owners: { path: string; status: string }[];
      changes: {
        kind: string;
        namespace: string;
        name: string;
        change: string;
        owner: string;
        paths: string[];
        diff: string;
      }[];
      dangers: unknown[];
    };
    expect(result.owners.map((a) => [a.path, a.status])).toEqual([["apps/demo/overlays/prod", "changed"]]);
    expect(result.changes).toMatchObject([
      {
        kind: "ConfigMap",
        namespace: "demo",
        name: "demo",
        change: "changed",
        owner: "apps/demo/overlays/prod",
        paths: ["data.mode"],
      },
    ]);
    expect(result.changes[0]?.diff).toContain("+  mode: green\n");
    expect(result.dangers).toEqual([]);
    const unified = await runCli(path.join(repo.dir, "apps"), ["--base", base, "--format", "diff"]);
    expect(unified.stdout).toMatch(
      /^--- base\/ConfigMap\/demo\/demo\n\+\+\+ head\/ConfigMap\/demo\/demo\n@@ /,
    );
  });

  it("says so when no kustomization is affected, and names an unknown ref with the fix", async () => {
    const { repo, base } = setup();
    repo.write({ "README.md": "# changed\n" });
    repo.commit("docs: readme");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.changedFiles).toBe(1);
    expect(result.apps).toEqual([]);
    expect(renderDiffMarkdown(result)).toContain(
      "No Flux Kustomization or kustomization is affected by the changed files.",
    );
    const cli = await runCli(repo.dir, ["--base", "no-such-ref"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain("unknown git ref 'no-such-ref'");
    expect(cli.stderr).toContain("fetch-depth: 0");
    expect((await runCli(repo.dir, [])).stderr).toContain("--base <ref> is required");
  });

  it("caps the Markdown and lists every resource it left out", async () => {
    const { repo, base } = setup();
    const many: Record<string, string> = { "apps/big/kustomization.yaml": "resources:\n  - cms.yaml\n" };
    many["apps/big/cms.yaml"] = Array.from(
      { length: 40 },
      (_, i) =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n${Array.from({ length: 50 }, (_, j) => `  k${j}: "${"x".repeat(40)}"`).join("\n")}\n`,
    ).join("---\n");
    repo.write(many);
    repo.commit("feat: big");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.apps[0]?.resources).toHaveLength(40);
    const markdown = renderDiffMarkdown(result, { maxChars: 20_000, maxLinesPerResource: 30 });
    expect(markdown.length).toBeLessThanOrEqual(20_000);
    expect(markdown).toMatch(
      /Output capped at 20,000 characters: \d+ object diffs not shown \(apps\/big: ConfigMap\/cm-/,
    );
    expect(markdown).toContain("Diffs longer than 30 lines were cut: ConfigMap/cm-0 (");
    expect(markdown).toContain(`haos-tasks diff --base ${base} --head ${result.head.sha}`);
  });
});
