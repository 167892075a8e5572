/**
 * Differential test: the in-process build (tools/bootstrap/go/kustomize-build) against the real
 * `kubectl kustomize`, on every kustomization in test/fixtures and apps/, on the bench repository
 * generator, and on edge cases of the helper's own mechanics (origin tracking through an edited
 * buildMetadata, several kustomization file names, the load restrictor, warnings, errors).
 *
 * For each root: kubectl's stdout is byte-identical to the helper's YAML, the objects the
 * validate pipeline receives (JSON) are the documents of that YAML, kubectl's error is the
 * helper's error message, and kubectl's warnings are the helper's warnings for that root.
 *
 * Versions: the helper links sigs.k8s.io/kustomize/api v0.20.1 (kustomize v5.7.1), what kubectl
 * 1.34 ships. The kubectl on these machines (/usr/bin/kubectl) may embed another kustomize; its
 * version is in the describe title. The one output that names the version — the
 * `app.kubernetes.io/managed-by: kustomize-<version>` label — is compared with the version masked.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { generateRepo } from "../../bench/validate.bench.ts";
import {
  type BuildResult,
  buildKustomizations,
  KustomizeHelperMissingError,
  startHelpers,
} from "../../src/manifests/kustomize-build.ts";
import { type InProcessBuild, KustomizeBuilder } from "../../src/manifests/kustomize-inprocess.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";

// Every helper this file starts also decodes each origin it reads on its fast path with
// kustomize's own GetOrigin, and fails the build if the two differ.
process.env.KUSTOMIZE_BUILD_CHECK_ORIGINS = "1";

const kubectl = process.env.HAOS_TASKS_DIFF_KUBECTL ?? "kubectl";
const kubectl134Kustomize = "v5.7.1";
const kubectlVersion = await execa(kubectl, ["version", "--client", "-o", "json"], { reject: false });
const versions =
  kubectlVersion.exitCode === 0 ? (JSON.parse(kubectlVersion.stdout) as Record<string, unknown>) : {};
const kubectlKustomize = String(versions.kustomizeVersion ?? "unknown");
const kubectlGit = String(
  (versions.clientVersion as { gitVersion?: string } | undefined)?.gitVersion ?? "missing",
);
const versionNote =
  kubectlKustomize === kubectl134Kustomize
    ? `kustomize ${kubectlKustomize}, as kubectl 1.34 ships`
    : `kustomize ${kubectlKustomize}, not the ${kubectl134Kustomize} kubectl 1.34 ships`;

const kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const readIfExists = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

function kustomizationDirs(top: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir);
    if (entries.some((e) => kustomizationNames.includes(e))) found.push(dir);
    for (const e of entries) {
      if (e === "node_modules" || e.startsWith(".")) continue;
      const full = path.join(dir, e);
      if (statSync(full).isDirectory()) walk(full);
    }
  };
  walk(top);
  return found.sort();
}

interface KubectlRun {
  ok: boolean;
  stdout: string;
  /** The error kubectl printed (klog's `err=` or the older `error: ` line). */
  error: string | undefined;
  /** Every other stderr line: kustomize's warnings. */
  warnings: string[];
}

// kubectl ≥ 1.31 reports a failed command through klog: `E… run.go:72] "command failed" err="…"`
// (a Go-quoted string), or `err=<` followed by tab-indented lines and ` >` for multi-line errors.
function parseKubectlStderr(stderr: string): { error: string | undefined; warnings: string[] } {
  const lines = stderr.split("\n");
  const warnings: string[] = [];
  let error: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const klog = /^E\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err=(.*)$/.exec(line);
    if (klog) {
      const rest = klog[1] as string;
      if (rest === "<") {
        const body: string[] = [];
        while (++i < lines.length && lines[i] !== " >") body.push((lines[i] as string).replace(/^\t/, ""));
        error = body.join("\n");
      } else error = JSON.parse(rest) as string;
    } else if (line.startsWith("error: ")) error = line.slice("error: ".length);
    else if (line.trim() !== "") warnings.push(line);
  }
  return { error, warnings };
}

async function runKubectl(dir: string, args: string[] = []): Promise<KubectlRun> {
  const run = await execa(kubectl, ["kustomize", dir, ...args], {
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { ok: run.exitCode === 0, stdout: String(run.stdout), ...parseKubectlStderr(String(run.stderr)) };
}

// The managed-by label names the kustomize version the binary reports: ours says v5.7.1 (what
// kubectl 1.34's build info gives); this kubectl may say its own version or "(devel)" when its
// build info lacks the kustomize module. The label is compared with the version masked, and
// checked on its own to be ours.
const managedBy = /(app\.kubernetes\.io\/managed-by"?:\s*"?)kustomize-(?:v[\d.]+|\(devel\))/g;
const sameVersion = (text: string) => text.replace(managedBy, "$1kustomize-<version>");

/** One root: kubectl's stdout byte for byte (execa keeps the final newline), errors, warnings. */
function expectSame(dir: string, ours: InProcessBuild, theirs: KubectlRun): void {
  const where = path.relative(toolsRepoRoot, dir) || dir;
  if (theirs.ok) {
    expect(ours.error?.message, `${where}: kubectl built it`).toBeUndefined();
    expect(sameVersion(ours.yaml ?? ""), `${where}: YAML`).toBe(sameVersion(theirs.stdout));
    for (const label of (ours.yaml ?? "").matchAll(managedBy))
      expect(label[0]).toContain(`kustomize-${kubectl134Kustomize}`);
    const docs = parseAllDocuments(sameVersion(theirs.stdout))
      .map((d) => d.toJS() as unknown)
      .filter((d) => d !== null);
    expect(
      ours.resources.map((r) => JSON.parse(sameVersion(JSON.stringify(r.object))) as unknown),
      `${where}: objects`,
    ).toEqual(docs);
  } else {
    expect(ours.error?.message, `${where}: error`).toBe(theirs.error);
  }
  expect(ours.warnings, `${where}: warnings`).toEqual(theirs.warnings);
}

async function differential(
  dirs: readonly string[],
  { loadRestrictor, workers = 2 }: { loadRestrictor?: "none"; workers?: number } = {},
): Promise<number> {
  const builder = await KustomizeBuilder.start({ env: process.env, workers });
  try {
    const ours = await builder.buildAll(dirs, { yaml: true, ...(loadRestrictor ? { loadRestrictor } : {}) });
    const args = loadRestrictor ? ["--load-restrictor", "LoadRestrictionsNone"] : [];
    // Two kubectl processes at a time: the machine is shared.
    const theirs: KubectlRun[] = new Array(dirs.length);
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < dirs.length) {
          const i = next++;
          theirs[i] = await runKubectl(dirs[i] as string, args);
        }
      }),
    );
    dirs.forEach((dir, i) => {
      expectSame(dir, ours[i] as InProcessBuild, theirs[i] as KubectlRun);
    });
    return theirs.filter((t) => t.ok).length;
  } finally {
    await builder.close();
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-kustomize-diff-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTree(top: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(top, rel)), { recursive: true });
    writeFileSync(path.join(top, rel), text);
  }
}

const deployment = (name: string, extra = "") =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n${extra}spec:\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}}}\n    spec: {containers: [{name: app, image: "nginx:1.27"}]}\n`;

// Kustomizations that exercise how the helper edits buildMetadata to trace origins, and the
// features that go through other code paths than plain resources.
const edgeCases: Record<string, string> = {
  "base/kustomization.yaml": "resources: [deployment.yaml]\n",
  "base/deployment.yaml": deployment("web", "  annotations: {}\n  labels: {}\n"),
  // Flow style, a comment, a leading document marker.
  "flow/kustomization.yaml": "---\n# flow style\n{resources: [../base], namePrefix: flow-}\n",
  "yml/kustomization.yml": "resources:\n  - ../base\nnameSuffix: -yml\n",
  "capital/Kustomization":
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\n",
  "generators/kustomization.yaml": [
    "namespace: gen",
    "resources: [../base]",
    "configMapGenerator:",
    "  - name: settings",
    "    literals: [LOG=debug, 'QUOTED=yes', 'N=0755']",
    "    files: [app.properties]",
    "secretGenerator:",
    "  - name: creds",
    "    literals: [password=hunter2]",
    "images:",
    "  - name: nginx",
    "    newTag: '1.28'",
    "replicas:",
    "  - name: web",
    "    count: 3",
    "labels:",
    "  - pairs: {team: shop}",
    "    includeSelectors: false",
    "patches:",
    "  - target: {kind: Deployment}",
    "    patch: |-",
    "      - op: add",
    "        path: /spec/revisionHistoryLimit",
    "        value: 2",
    "",
  ].join("\n"),
  "generators/app.properties": "a=1\nb=two\n",
  // User-requested origin annotations stay; other buildMetadata options keep working.
  "origins/kustomization.yaml": "buildMetadata: [originAnnotations]\nresources: [../base]\n",
  "transformers/kustomization.yaml":
    "buildMetadata: [transformerAnnotations]\nnamePrefix: t-\nresources: [../base]\n",
  "managed/kustomization.yaml": "buildMetadata: [managedByLabel]\nresources: [../base]\n",
  "sorted/kustomization.yaml": "sortOptions: {order: fifo}\nresources: [../base, svc.yaml, ns.yaml]\n",
  "sorted/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
  "sorted/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
  "component/kustomization.yaml":
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {via: component}\n",
  "uses-component/kustomization.yaml": "resources: [../base]\ncomponents: [../component]\n",
  // A custom OpenAPI schema replaces kustomize's global one; the next root in the same helper must
  // not see it (without Deployment's schema the patch would replace the container, image and all,
  // instead of merging it by name).
  "openapi/kustomization.yaml": "openapi: {path: schema.json}\nresources: [../base]\n",
  "openapi/schema.json": '{"definitions": {}}\n',
  "after-openapi/kustomization.yaml":
    "resources: [../base]\npatches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web}\n      spec: {template: {spec: {containers: [{name: app, env: [{name: A, value: b}]}]}}}\n",
  "deprecated/kustomization.yaml": "bases: [../base]\ncommonLabels: {old: style}\n",
  // Errors: an unknown field, YAML that does not parse, a missing file, an empty kustomization,
  // a component built directly, a path outside the root under the default restrictor.
  "unknown-field/kustomization.yaml": "resourcez: [../base]\n",
  "bad-yaml/kustomization.yaml": "resources: [../base\n",
  "missing/kustomization.yaml": "resources: [nothere.yaml]\n",
  "empty/kustomization.yaml": "",
  "typemeta-only/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
  "outside/kustomization.yaml": "resources: [../base/deployment.yaml]\n",
  "duplicate/kustomization.yaml": "resources: [../base, ../flow, again.yaml]\n",
  "duplicate/again.yaml": deployment("web"),
};

describe(`in-process kustomize (kustomize-build, kustomize ${kubectl134Kustomize}) = ${kubectl} kustomize (${kubectlGit}, ${versionNote})`, () => {
  it("every kustomization in test/fixtures and apps/", { timeout: 180_000 }, async () => {
    const dirs = [
      ...kustomizationDirs(path.join(toolsRepoRoot, "tools/haos-tasks/test/fixtures")),
      ...kustomizationDirs(path.join(toolsRepoRoot, "apps")),
    ];
    expect(dirs.length).toBeGreaterThan(50);
    const built = await differential(dirs);
    // Most fixtures build; the rest are planted build errors, compared as errors.
    expect(built).toBeGreaterThan(dirs.length / 2);
  });

  it("the bench repository generator (40 apps)", { timeout: 120_000 }, async () => {
    const repo = path.join(tmp, "bench");
    mkdirSync(repo);
    const { kustomizations } = generateRepo(repo, 40);
    expect(await differential(kustomizations.map((k) => path.join(repo, k)))).toBe(40);
  });

  it("edge cases of origin tracking, generators, components, OpenAPI, sorting and errors", async () => {
    const top = path.join(tmp, "edge");
    writeTree(top, edgeCases);
    const dirs = [...new Set(Object.keys(edgeCases).map((f) => path.join(top, path.dirname(f))))];
    dirs.push(path.join(top, "does-not-exist"));
    expect(existsSync(path.join(top, "openapi"))).toBe(true);
    // One helper, in file order: "openapi" is built right before "after-openapi".
    const built = await differential(dirs, { workers: 1 });
    expect(built).toBeGreaterThanOrEqual(12);
  });

  it("origins of resource files whatever their names, as kustomize's GetOrigin reads them", async () => {
    // Names a YAML parser could read as something else than the name (a YAML 1.1 boolean, a
    // number), or that the origin annotation must quote: each object's origin is its file.
    const names = [
      "on.yaml",
      "yes.yml",
      "1.5.yaml",
      "a b.yaml",
      "-x.yaml",
      "#h.yaml",
      "é.yaml",
      "x'y.yaml",
      "n.json",
    ];
    const top = path.join(tmp, "names");
    const cm = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\ndata: {k: v}\n`;
    writeTree(top, {
      "kustomization.yaml": `resources:\n${names.map((n) => `  - ${JSON.stringify(n)}\n`).join("")}`,
      ...Object.fromEntries(
        names.map((n, i) => [
          n,
          n.endsWith(".json")
            ? JSON.stringify({
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name: `c${i}` },
                data: { k: "v" },
              })
            : cm(i),
        ]),
      ),
    });
    const builder = await KustomizeBuilder.start({ env: process.env, workers: 1 });
    try {
      const [built] = await builder.buildAll([top], { yaml: true });
      expectSame(top, built as InProcessBuild, await runKubectl(top));
      const byName = new Map(
        built?.resources.map((r) => [String((r.object.metadata as { name: string }).name), r.origin?.path]),
      );
      expect(names.map((_, i) => byName.get(`c${i}`))).toEqual(names);
    } finally {
      await builder.close();
    }
  });

  it("Flux's spec.components, targetNamespace and generated kustomizations = kubectl on the kustomization Flux writes", async () => {
    // kustomize-controller appends spec.components to the kustomization's components, sets its
    // namespace to spec.targetNamespace, and writes a kustomization.yaml listing the manifests of
    // a path without one; kubectl builds those files.
    const top = path.join(tmp, "flux");
    writeTree(top, {
      ...edgeCases,
      "with-components/kustomization.yaml": "resources: [../base]\ncomponents: [../component]\n",
      "with-components/written/kustomization.yaml":
        "resources: [../../base]\ncomponents: [../../component, ../../component2]\nnamespace: target\n",
      "component2/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c2-\n",
      "plain/a.yaml": deployment("a"),
      "plain/sub/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n",
      "plain-written/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- a.yaml\n- sub/b.yaml\n",
      "plain-written/a.yaml": deployment("a"),
      "plain-written/sub/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n",
    });
    const builder = await KustomizeBuilder.start({ env: process.env, workers: 1 });
    try {
      const [components, generated] = await builder.buildAll(
        [
          { dir: path.join(top, "with-components"), components: ["../component2"], namespace: "target" },
          { dir: path.join(top, "plain"), resources: ["a.yaml", "sub/b.yaml"] },
        ],
        { yaml: true, loadRestrictor: "none" },
      );
      const none = ["--load-restrictor", "LoadRestrictionsNone"];
      expectSame(
        "with-components",
        components as InProcessBuild,
        await runKubectl(path.join(top, "with-components/written"), none),
      );
      expect(components?.resources.map((r) => r.origin?.path)).toEqual(["../base/deployment.yaml"]);
      expectSame(
        "plain",
        generated as InProcessBuild,
        await runKubectl(path.join(top, "plain-written"), none),
      );
      // Legacy order: the ConfigMap before the Deployment.
      expect(generated?.resources.map((r) => r.origin?.path)).toEqual(["sub/b.yaml", "a.yaml"]);
    } finally {
      await builder.close();
    }
  });

  it("--load-restrictor LoadRestrictionsNone (Flux's setting) = loadRestrictor none", async () => {
    const top = path.join(tmp, "edge");
    writeTree(top, edgeCases);
    expect(
      await differential([path.join(top, "outside"), path.join(top, "generators")], {
        loadRestrictor: "none",
      }),
    ).toBe(2);
  });
});

// What validate receives: buildKustomizations through the helper and through the kubectl fallback
// (its wrapper kustomizations and annotations) give the same objects, origins and failing units.
describe("buildKustomizations: in-process = the kubectl fallback (HAOS_TASKS_KUSTOMIZE=kubectl)", () => {
  // The fallback's `text` is its wrapper's output, tracing annotations and document marker
  // included; only whether an object carries its text (it holds `${`) is compared.
  const comparable = (result: BuildResult) => ({
    resources: result.resources
      .map((r) => ({
        ...r,
        object: JSON.parse(sameVersion(JSON.stringify(r.object))) as unknown,
        text: r.text !== undefined,
      }))
      .sort((a, b) =>
        `${a.build} ${a.kind} ${a.namespace} ${a.name}`.localeCompare(
          `${b.build} ${b.kind} ${b.namespace} ${b.name}`,
        ),
      ),
    failed: result.failures.map((f) => f.dir).sort(),
  });

  it("on every fixture kustomization (Components aside) and apps/haos-enigma", {
    timeout: 180_000,
  }, async () => {
    const root = toolsRepoRoot;
    // Components are not roots (validate builds them through the kustomizations that use them);
    // the fallback's wrapper cannot even include one.
    const fixtures = kustomizationDirs(path.join(root, "tools/haos-tasks/test/fixtures"))
      .filter(
        (d) => !kustomizationNames.some((n) => /^kind:\s*Component\b/m.test(readIfExists(path.join(d, n)))),
      )
      .map((d) => path.relative(root, d));
    const units = [...fixtures, "apps/haos-enigma"];
    const inProcess = await buildKustomizations(units, { env: process.env, root });
    const kubectlRun = await buildKustomizations(units, {
      root,
      env: { ...process.env, HAOS_TASKS_KUSTOMIZE: "kubectl" },
    });
    expect(inProcess.resources.length).toBeGreaterThan(100);
    expect(comparable(inProcess)).toEqual(comparable(kubectlRun));
  });

  it("helpers started ahead (as validate starts them) build the same, and report a missing helper the same", async () => {
    const units = ["apps/haos-enigma"];
    const helpers = startHelpers({ env: process.env });
    const ahead = await buildKustomizations(units, { env: process.env, root: toolsRepoRoot, helpers });
    await (await helpers).close();
    const own = await buildKustomizations(units, { env: process.env, root: toolsRepoRoot });
    expect(ahead.resources.length).toBeGreaterThan(10);
    expect(comparable(ahead)).toEqual(comparable(own));
    const missing = startHelpers({ env: process.env, helper: path.join(tmp, "no-kustomize-build") });
    const error = await buildKustomizations(units, {
      env: process.env,
      root: toolsRepoRoot,
      helpers: missing,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KustomizeHelperMissingError);
    expect((error as KustomizeHelperMissingError).hint).toContain("npm run bootstrap -- validate");
  });

  it("a missing helper names the bootstrap and the kubectl fallback", async () => {
    const error = await buildKustomizations(["apps/haos-enigma"], {
      env: process.env,
      root: toolsRepoRoot,
      helper: path.join(tmp, "no-kustomize-build"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KustomizeHelperMissingError);
    expect((error as KustomizeHelperMissingError).hint).toContain("npm run bootstrap -- validate");
    expect((error as KustomizeHelperMissingError).hint).toContain("HAOS_TASKS_KUSTOMIZE=kubectl");
  });
});
