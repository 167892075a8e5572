import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { normaliseFluxPath } from "../../src/lint/platform/flux.ts";
import { loadWorkspace } from "../../src/manifests/workspace.ts";
import { type KustomizeObject, type Renderer, startRenderer } from "../../src/render/helper.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { buildStage } from "../../src/validate/build-stage.ts";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import {
  type FluxControllers,
  type GitHttpServer,
  installFluxCrds,
  startFluxControllers,
  startGitHttpServer,
} from "../support/flux.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";
import { get, type Json } from "./runner-manifests.ts";

// Differential test (issue 22 item 6, the kustomize-controller half): the repository
// test/fixtures/kustomize-differential (its README says what each Kustomization covers) is served
// over smart HTTP to the REAL source-controller v1.8.5 and kustomize-controller v1.9.0 on a real
// kube-apiserver, bootstrapped as `flux bootstrap` leaves a cluster (the GitRepository and the
// Kustomization flux-system applied once). Once every Kustomization has applied the commit, each
// one's objects — the set is its status.inventory — are compared, object by object, with
//   (1) what flux-render builds for it: op "kustomize" (fluxcd/pkg/kustomize's generator and build)
//       on the Kustomization's spec as the API server holds it (for a child: as its parent's build
//       gave it), then op "envsubst" with the variables kustomize-controller collects
//       (substituteFrom's ConfigMaps/Secrets as the API server holds them, in order, then
//       substitute), then commonMetadata (the controller's apply step, see withCommonMetadata), and
//   (2) what validate checks: validate's build stage (buildStage) on the same checkout, the objects
//       it assigns to that Kustomization.
//
// How two objects are compared. The API server adds and defaults fields the renderer cannot know
// (uid, creationTimestamp, a Deployment's strategy, a container's terminationMessagePath, ...), so
// the rendered object is not compared with the live one as data. Instead it is applied to the
// live object with a server-side DRY-RUN apply under kustomize-controller's own field manager
// (`kustomize-controller`, operation Apply): server-side apply replaces what that manager applied
// with the rendered object (a field the controller applied and the render lacks is removed, a field
// the render adds is set), and the server defaults the result as it defaulted the live object. If
// the render is what the controller applied, the dry-run result IS the live object. Only these are
// then removed from both sides:
//   - metadata.managedFields (timestamps of the dry-run's own entry), metadata.resourceVersion and
//     metadata.generation (a dry-run that changes anything bumps them: the change itself is then
//     what the comparison shows);
//   - status (written by the object's own controller, never by the applier; the renderer makes none).
// The renderer's side gets the two labels kustomize-controller adds at apply time to every object
// it applies, `kustomize.toolkit.fluxcd.io/name` and `/namespace` (flux-render's README: applied by the
// controller, not by the build). Nothing else is normalised.
//
// Known limit of this comparison: a field the render sets explicitly to the value the API server
// would default (and the controller left out) is not seen as a difference.

const fixtureDir = path.join(
  toolsRepoRoot,
  "tools",
  "haos-tasks",
  "test",
  "fixtures",
  "kustomize-differential",
);
const fluxLabels = ["kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"];
const kustomizations = ["flux-system", "features", "cluster-apps", "echo", "web"];

let server: TestApiServer;
let flux: FluxControllers;
let git: GitHttpServer;
let work: ScratchRepo;
let renderer: Renderer;
let revision: string;
const scratch: string[] = [];

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await server.kubectl(args, input === undefined ? {} : { input });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}
const kubectlJson = async (args: string[]): Promise<Json> =>
  JSON.parse(await kubectl([...args, "-o", "json"])) as Json;

/** `<namespace>_<name>_<group>_<kind>`: kustomize-controller's inventory id of an object. */
function idOf(object: Json): string {
  const apiVersion = String(object.apiVersion);
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const namespace = String(get(object, "metadata", "namespace") ?? "");
  return `${namespace}_${String(get(object, "metadata", "name"))}_${group}_${String(object.kind)}`;
}

function strip(object: Json): Json {
  const copy = structuredClone(object);
  const metadata = copy.metadata as Json;
  delete metadata.managedFields;
  delete metadata.resourceVersion;
  delete metadata.generation;
  delete copy.status;
  return copy;
}

/** The live object an inventory entry names. */
async function live(id: string, version: string): Promise<Json> {
  const [namespace, name, group, kind] = id.split("_") as [string, string, string, string];
  const resource = group ? `${kind}.${version}.${group}` : kind;
  return await kubectlJson([
    "get",
    resource,
    name,
    ...(namespace ? ["-n", namespace] : []),
    "--show-managed-fields",
  ]);
}

/**
 * Compares the objects `rendered` for Kustomization `name` with what kustomize-controller applied
 * (see the top of this file). Returns the live objects by id, for the checks that the features are
 * live.
 */
async function expectAppliedAs(name: string, rendered: Json[]): Promise<Map<string, Json>> {
  const ks = await kubectlJson(["get", "kustomization", name, "-n", "flux-system"]);
  const entries = (get(ks, "status", "inventory", "entries") ?? []) as { id: string; v: string }[];
  const withLabels = rendered.map((object) => {
    const copy = structuredClone(object);
    const metadata = copy.metadata as Json;
    metadata.labels = {
      ...((metadata.labels as Json | undefined) ?? {}),
      [fluxLabels[0] as string]: name,
      [fluxLabels[1] as string]: "flux-system",
    };
    return copy;
  });
  // The same objects.
  expect(withLabels.map(idOf).sort(), `${name}: the objects`).toEqual(entries.map((e) => e.id).sort());
  const dryRun = JSON.parse(
    await kubectl(
      [
        "apply",
        "--server-side",
        "--dry-run=server",
        "--force-conflicts",
        "--field-manager=kustomize-controller",
        "-o",
        "json",
        "-f",
        "-",
      ],
      withLabels.map((o) => stringify(o)).join("---\n"),
    ),
  ) as Json;
  const applied = (dryRun.kind === "List" ? (dryRun.items as Json[]) : [dryRun]).map(strip);
  const byId = new Map<string, Json>();
  for (const entry of entries) {
    const object = await live(entry.id, entry.v);
    byId.set(entry.id, object);
    // The controller applied it (its field manager owns fields of it).
    const managers = ((get(object, "metadata", "managedFields") ?? []) as Json[]).filter(
      (m) => m.manager === "kustomize-controller" && m.operation === "Apply",
    );
    expect(
      managers,
      `${entry.id}: applied by kustomize-controller: ${JSON.stringify(get(object, "metadata", "managedFields"))}`,
    ).toHaveLength(1);
    const mine = applied.find((o) => idOf(o) === entry.id);
    expect(mine, `${name}: ${entry.id}`).toEqual(strip(object));
  }
  return byId;
}

/** What flux-render builds for a Kustomization: op kustomize on its live spec, then op envsubst. */
async function renderWithFluxRender(name: string): Promise<Json[]> {
  const ks = await kubectlJson(["get", "kustomization", name, "-n", "flux-system"]);
  const spec = ks.spec as Json;
  const built = await renderer.kustomize({
    root: work.dir,
    path: normaliseFluxPath(String(spec.path ?? ".")),
    spec,
  });
  expect(built.error, JSON.stringify(built.error)).toBeUndefined();
  return withCommonMetadata(spec, await substituted(name, spec, built.resources));
}

/**
 * kustomize-controller's apply step, after the build and the substitution (op kustomize leaves it
 * to the caller): spec.commonMetadata's labels and annotations set on every object
 * (ssautil.SetCommonMetadata: keys of the same name replaced).
 */
function withCommonMetadata(spec: Json, objects: Json[]): Json[] {
  const common = spec.commonMetadata as { labels?: Json; annotations?: Json } | undefined;
  if (!common) return objects;
  return objects.map((object) => {
    const metadata = { ...(object.metadata as Json) };
    for (const key of ["labels", "annotations"] as const)
      if (common[key]) metadata[key] = { ...((metadata[key] as Json | undefined) ?? {}), ...common[key] };
    return { ...object, metadata };
  });
}

/** Op envsubst on each built object, with the variables kustomize-controller collects. */
async function substituted(name: string, spec: Json, resources: KustomizeObject[]): Promise<Json[]> {
  const postBuild = spec.postBuild as Json | undefined;
  if (!postBuild) return resources.map((r) => r.object);
  // kustomize-controller's variables: substituteFrom in order (a later source's key wins), then
  // substitute on top; an optional source that does not exist is skipped.
  const vars: Record<string, string> = {};
  for (const ref of (postBuild.substituteFrom ?? []) as Json[]) {
    const kind = String(ref.kind);
    const got = await server.kubectl([
      "get",
      kind.toLowerCase(),
      String(ref.name),
      "-n",
      "flux-system",
      "-o",
      "json",
    ]);
    if (got.exitCode !== 0 && ref.optional === true) continue;
    if (got.exitCode !== 0) throw new Error(got.stderr);
    for (const [key, value] of Object.entries(((JSON.parse(got.stdout) as Json).data ?? {}) as Json))
      vars[key] = kind === "Secret" ? Buffer.from(String(value), "base64").toString("utf8") : String(value);
  }
  Object.assign(vars, (postBuild.substitute ?? {}) as Record<string, string>);
  const out: Json[] = [];
  for (const r of resources) {
    if (r.text === undefined) {
      out.push(r.object);
      continue;
    }
    const [result] = await renderer.envsubst([{ text: r.text, vars }]);
    if (!result || result.error) throw new Error(`${name}: envsubst: ${JSON.stringify(result?.error)}`);
    out.push(result.object);
  }
  return out;
}

/** What validate's build stage assigns to each Flux Kustomization of the checkout. */
async function validateBuild(): Promise<Map<string, Json[]>> {
  const workspace = await loadWorkspace(["."], { cwd: work.dir, root: work.dir });
  const stage = await buildStage(workspace, {
    env: process.env,
    envsubst: (items) => renderer.envsubst(items),
  });
  expect(stage.failures).toEqual([]);
  expect(stage.findings).toEqual([]);
  const out = new Map<string, Json[]>();
  for (const { owner, resource } of stage.objects) {
    const list = out.get(owner) ?? [];
    list.push(resource.object);
    out.set(owner, list);
  }
  return out;
}

async function waitApplied(): Promise<void> {
  const until = Date.now() + 120_000;
  let last = "";
  for (;;) {
    const list = await kubectlJson(["get", "kustomizations", "-n", "flux-system"]);
    const states = new Map(
      ((list.items ?? []) as Json[]).map((k) => {
        const ready = ((get(k, "status", "conditions") ?? []) as Json[]).find((c) => c.type === "Ready");
        return [
          String(get(k, "metadata", "name")),
          { applied: get(k, "status", "lastAppliedRevision"), ready: ready?.status, message: ready?.message },
        ];
      }),
    );
    last = JSON.stringify(Object.fromEntries(states));
    if (kustomizations.every((n) => states.get(n)?.applied === revision && states.get(n)?.ready === "True"))
      return;
    if (Date.now() > until)
      throw new Error(`the Kustomizations did not apply ${revision}: ${last}\n${flux.logs(30)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  server = await startTestApiServer();
  await installFluxCrds(server);
  flux = await startFluxControllers(server, { controllers: ["source-controller", "kustomize-controller"] });
  const gitRoot = mkdtempSync(path.join(os.tmpdir(), "haos-ks-diff-git-"));
  scratch.push(gitRoot);
  git = await startGitHttpServer(gitRoot);
  const bare = createScratchRepo({ dir: path.join(gitRoot, "fleet.git"), bare: true });
  work = createScratchRepo({ prefix: "haos-ks-diff-work-", from: fixtureDir });
  scratch.push(work.dir);
  const sync = path.join(work.dir, "clusters", "test", "flux-system", "gotk-sync.yaml");
  writeFileSync(sync, readFileSync(sync, "utf8").replace("GIT_URL", git.url("fleet.git")));
  revision = `main@sha1:${work.commit("fleet")}`;
  work.git("push", "-q", bare.dir, "HEAD:main");
  // Bootstrap: the GitRepository and the Kustomization flux-system, applied once.
  await kubectl(["apply", "--server-side", "-f", sync]);
  await waitApplied();
  renderer = await startRenderer({ env: process.env });
}, 300_000);

afterAll(async () => {
  await renderer?.close();
  await flux?.stop();
  await git?.close();
  await server?.stop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("Flux Kustomizations: flux-render's kustomize op against the real kustomize-controller", () => {
  it.each(kustomizations)("%s: identical", async (name) => {
    await expectAppliedAs(name, await renderWithFluxRender(name));
  });
});

describe("Flux Kustomizations: validate's build stage against the real kustomize-controller", () => {
  it.each(kustomizations)("%s: identical", async (name) => {
    const built = await validateBuild();
    await expectAppliedAs(name, built.get(`Kustomization/flux-system/${name}`) ?? []);
  });
});

describe("the fixture's features are live in what kustomize-controller applied", () => {
  it("targetNamespace, namePrefix/nameSuffix, components, patches, images, substitution", async () => {
    const deployment = await kubectlJson(["get", "deployment", "pre-web-suf", "-n", "features"]);
    const spec = get(deployment, "spec", "template", "spec") as Json;
    expect(spec.serviceAccountName).toBe("pre-web-suf");
    const [container] = spec.containers as Json[];
    expect(container?.image).toBe("registry.example.com/mirror/nginx:1.27.1");
    expect(container?.env).toContainEqual({ name: "PATCHED", value: "strategic-merge" });
    expect(container?.env).toContainEqual({ name: "GREETING", value: "hello from features" });
    expect((spec.initContainers as Json[])[0]?.image).toMatch(/^busybox@sha256:2919d017/);
    expect(get(deployment, "metadata", "labels", "component")).toBe("extra");
    // commonMetadata, applied after the build: its tier replaced the Deployment's own.
    expect(get(deployment, "metadata", "labels", "tier")).toBe("frontend");
    expect(get(deployment, "metadata", "labels", "team")).toBe("home");
    expect(get(deployment, "metadata", "annotations", "owner")).toBe("ops");
    const settings = await kubectlJson(["get", "configmap", "pre-settings-suf", "-n", "features"]);
    expect(settings.data).toEqual({
      level: "debug",
      patched: "json6902",
      greeting: "hello from features",
      missing: "fallback",
    });
    await kubectlJson(["get", "configmap", "pre-extra-suf", "-n", "features"]);
  });

  it("the parent's patches and substitution in the children; substituteFrom ConfigMap then Secret", async () => {
    const echo = await kubectlJson(["get", "kustomization", "echo", "-n", "flux-system"]);
    expect(get(echo, "spec", "path")).toBe("./kubernetes/apps/echo/app");
    expect(get(echo, "spec", "targetNamespace")).toBe("apps");
    expect(get(echo, "spec", "interval")).toBe("5m");
    expect(get(echo, "spec", "commonMetadata")).toEqual({ labels: { "cluster-namespace": "apps" } });
    expect(get(echo, "spec", "postBuild", "substitute")).toEqual({ APP: "echo", OWNER: "apps-team" });
    const deployment = await kubectlJson(["get", "deployment", "echo", "-n", "apps"]);
    expect(get(deployment, "spec", "replicas")).toBe(2);
    const [container] = get(deployment, "spec", "template", "spec", "containers") as Json[];
    expect(container?.env).toEqual([
      { name: "TOKEN", value: "s3cr3t-token" },
      { name: "GREETING", value: "hello from the cluster" },
      { name: "UPPER", value: "ECHO" },
    ]);
    const envName = String(get(((container?.envFrom ?? []) as Json[])[0], "configMapRef", "name"));
    expect(envName).toMatch(/^echo-env-[a-z0-9]{10}$/);
    const env = await kubectlJson(["get", "configmap", envName, "-n", "apps"]);
    expect(env.data).toEqual({ MODE: "production", SHARED: "from-secret" });
    const raw = await kubectlJson(["get", "configmap", "web-raw", "-n", "apps"]);
    expect(raw.data).toEqual({ literal: "${LEFT_AS_WRITTEN}" });
    const config = await kubectlJson(["get", "configmap", "web-config", "-n", "apps"]);
    // The escape $${…} gives the text ${…}.
    expect(get(config, "data", "path")).toBe("${NOT_A_VARIABLE}");
  });
});
