import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchSource, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import { installAppCrds } from "../support/real-flux-app.ts";
import { sourceFetch } from "../support/upstream-schemas.ts";
import { verifyRunnerDir } from "./runner-manifests.ts";

// The runner pod's identity, applied from apps/verify-runner/rbac-verify-runner.yaml to a real
// kube-apiserver (RBAC authorizer), asked with `kubectl auth can-i --as` (SubjectAccessReview with
// impersonation): everything verify needs is allowed, and the complete list of what it may do in
// each namespace is exactly that — a new grant anywhere fails this test until it is reviewed here.

const as = "system:serviceaccount:tenant-root:haos-verify-runner";
let server: TestApiServer;

beforeAll(async () => {
  server = await startTestApiServer();
  // The kinds must exist for kubectl to resolve them (and for a "no" to mean RBAC said no): the
  // Flux CRDs and the app's kinds as the real-Flux tests install them, and the ARC CRDs from the lock.
  await installAppCrds(server);
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  const arc = lock.sources.filter((s) =>
    /\/gha-runner-scale-set-controller\/crds\/actions\.github\.com_/.test(s.url),
  );
  await server.installCrds(
    await Promise.all(arc.map(async (s) => (await fetchSource(s, sourceFetch(mirror))).toString("utf8"))),
  );
  for (const ns of ["flux-system", "tenant-root", "arc-systems"])
    await server.kubectl(["create", "namespace", ns]);
  const applied = await server.kubectl([
    "apply",
    "-f",
    path.join(verifyRunnerDir, "rbac-verify-runner.yaml"),
  ]);
  if (applied.exitCode !== 0) throw new Error(applied.stderr);
});
afterAll(async () => {
  await server?.stop();
});

/** `resource` may be `type/name` or `type#subresource` (kubectl's --subresource). */
async function canI(verb: string, resource: string, namespace?: string): Promise<boolean> {
  const [type, subresource] = resource.split("#") as [string, string | undefined];
  const result = await server.kubectl([
    "auth",
    "can-i",
    verb,
    type,
    ...(subresource ? [`--subresource=${subresource}`] : []),
    `--as=${as}`,
    ...(namespace ? ["-n", namespace] : []),
  ]);
  // An unknown kind is asked about as written and denied: that "no" would prove nothing.
  if (result.exitCode > 1 || /doesn't have a resource type/.test(result.stderr))
    throw new Error(`kubectl auth can-i ${verb} ${resource}: ${result.stderr}`);
  return result.stdout.trim() === "yes";
}

const readOnly = (resource: string, namespace: string) =>
  ["get", "list", "watch"].map((verb) => [verb, resource, namespace] as const);

describe("the verify runner's ServiceAccount", () => {
  it("may read everything verify follows and trigger the two named Flux objects", async () => {
    const allowed = [
      ...readOnly("gitrepositories.source.toolkit.fluxcd.io", "flux-system"),
      ...readOnly("kustomizations.kustomize.toolkit.fluxcd.io", "flux-system"),
      ["get", "events", "flux-system"],
      ["list", "events", "flux-system"],
      ...readOnly("vmdisks.apps.cozystack.io", "tenant-root"),
      ...readOnly("vminstances.apps.cozystack.io", "tenant-root"),
      ...readOnly("helmreleases.helm.toolkit.fluxcd.io", "tenant-root"),
      ...readOnly("datavolumes.cdi.kubevirt.io", "tenant-root"),
      ...readOnly("virtualmachines.kubevirt.io", "tenant-root"),
      ...readOnly("virtualmachineinstances.kubevirt.io", "tenant-root"),
      ...readOnly("persistentvolumeclaims", "tenant-root"),
      ...readOnly("services", "tenant-root"),
      ["get", "pods", "tenant-root"],
      ["list", "pods", "tenant-root"],
      ["get", "events", "tenant-root"],
      ["list", "events", "tenant-root"],
      ["patch", "gitrepositories.source.toolkit.fluxcd.io/setup", "flux-system"],
      ["patch", "kustomizations.kustomize.toolkit.fluxcd.io/haos-enigma", "flux-system"],
    ] as const;
    const answers = await Promise.all(
      allowed.map(async ([v, r, n]) => `${v} ${r} -n ${n}: ${await canI(v, r, n)}`),
    );
    expect(answers.filter((a) => a.endsWith("false"))).toEqual([]);
  });

  it("may not read Secrets (its own GitHub App Secret included), logs, exec, write, or leave its namespaces", async () => {
    const denied = [
      ["get", "secrets/verify-runner-github-app", "tenant-root"],
      ["list", "secrets", "tenant-root"],
      ["list", "secrets", "flux-system"],
      ["list", "secrets", "arc-systems"],
      ["get", "pods#log", "tenant-root"],
      ["create", "pods#exec", "tenant-root"],
      ["create", "pods", "tenant-root"],
      ["delete", "pods", "tenant-root"],
      ["watch", "pods", "tenant-root"],
      ["get", "configmaps", "tenant-root"],
      ["patch", "vminstances.apps.cozystack.io", "tenant-root"],
      ["delete", "vmdisks.apps.cozystack.io", "tenant-root"],
      ["patch", "helmreleases.helm.toolkit.fluxcd.io", "tenant-root"],
      ["patch", "services", "tenant-root"],
      ["create", "events", "tenant-root"],
      ["patch", "gitrepositories.source.toolkit.fluxcd.io/verify-runner", "flux-system"],
      ["patch", "kustomizations.kustomize.toolkit.fluxcd.io/verify-runner", "flux-system"],
      ["update", "kustomizations.kustomize.toolkit.fluxcd.io/haos-enigma", "flux-system"],
      ["delete", "kustomizations.kustomize.toolkit.fluxcd.io/haos-enigma", "flux-system"],
      ["create", "kustomizations.kustomize.toolkit.fluxcd.io", "flux-system"],
      ["list", "helmreleases.helm.toolkit.fluxcd.io", "flux-system"],
      ["list", "autoscalingrunnersets.actions.github.com", "tenant-root"],
      ["list", "pods", "arc-systems"],
      ["list", "pods", "default"],
    ] as const;
    const clusterScoped = [
      "nodes",
      "namespaces",
      "customresourcedefinitions.apiextensions.k8s.io",
      "clusterroles.rbac.authorization.k8s.io",
    ];
    const answers = await Promise.all([
      ...denied.map(async ([v, r, n]) => `${v} ${r} -n ${n}: ${await canI(v, r, n)}`),
      ...clusterScoped.map(async (r) => `list ${r}: ${await canI("list", r)}`),
    ]);
    expect(answers.filter((a) => a.endsWith("true"))).toEqual([]);
  });

  it("has exactly the grants reviewed here in each namespace (kubectl auth can-i --list)", async () => {
    // Rows every authenticated identity has (system:basic-user, system:discovery) are not ours.
    const baseline = /^(selfsubject|\s*\[|\s*$)/;
    const grants = async (ns: string) => {
      const listed = await server.kubectl(["auth", "can-i", "--list", `--as=${as}`, "-n", ns]);
      if (listed.exitCode !== 0) throw new Error(listed.stderr);
      return listed.stdout
        .split("\n")
        .slice(1)
        .filter((line) => !baseline.test(line))
        .map((line) => line.trim().replace(/\s+/g, " "))
        .sort();
    };
    expect(await grants("flux-system")).toEqual([
      "events [] [] [get list]",
      "gitrepositories.source.toolkit.fluxcd.io [] [] [get list watch]",
      "gitrepositories.source.toolkit.fluxcd.io [] [setup] [patch]",
      "kustomizations.kustomize.toolkit.fluxcd.io [] [] [get list watch]",
      "kustomizations.kustomize.toolkit.fluxcd.io [] [haos-enigma] [patch]",
    ]);
    expect(await grants("tenant-root")).toEqual([
      "datavolumes.cdi.kubevirt.io [] [] [get list watch]",
      "events [] [] [get list]",
      "helmreleases.helm.toolkit.fluxcd.io [] [] [get list watch]",
      "persistentvolumeclaims [] [] [get list watch]",
      "pods [] [] [get list]",
      "services [] [] [get list watch]",
      "virtualmachineinstances.kubevirt.io [] [] [get list watch]",
      "virtualmachines.kubevirt.io [] [] [get list watch]",
      "vmdisks.apps.cozystack.io [] [] [get list watch]",
      "vminstances.apps.cozystack.io [] [] [get list watch]",
    ]);
    expect(await grants("arc-systems")).toEqual([]);
  });
});
