import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pinnedVersions, toolsRepoRoot } from "../../src/tools/paths.ts";

const script = path.join(toolsRepoRoot, "tools/bootstrap/bootstrap.sh");

describe("tools/bootstrap/bootstrap.sh", () => {
  const sandbox = mkdtempSync(path.join(os.tmpdir(), "haos-bootstrap-"));
  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

  it("is idempotent: with every tool built, a run only checks stamps", async () => {
    const result = await execa("bash", [script, "test"], { reject: false, all: true });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).not.toContain("building");
    expect(result.all).toContain("tools up to date");
  });

  it("fails with the exact fix when Go is missing", async () => {
    // A copy of the bootstrap folder has no .tools yet, so it must build — and PATH has no go.
    cpSync(path.join(toolsRepoRoot, "tools/bootstrap"), path.join(sandbox, "tools/bootstrap"), {
      recursive: true,
    });
    const kubectlDir = path.dirname((await execa("sh", ["-c", "command -v kubectl"])).stdout);
    const result = await execa("bash", [path.join(sandbox, "tools/bootstrap/bootstrap.sh"), "kubeconform"], {
      reject: false,
      all: true,
      env: { PATH: `${kubectlDir}:/usr/bin:/bin` },
      extendEnv: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain("Go is not installed");
    expect(result.all).toContain("fix: install Go 1.24 or newer");
  });

  it("rejects an unknown tool name and lists the known ones", async () => {
    const result = await execa("bash", [script, "kubeconfrom"], { reject: false, all: true });
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain("unknown tool or group 'kubeconfrom'");
  });

  it("pins kube-apiserver and etcd in their wrapper modules at the versions.env versions", async () => {
    const versions = pinnedVersions();
    const apiserver = await execa(path.join(toolsRepoRoot, ".tools/bin/kube-apiserver"), ["--version"]);
    expect(apiserver.stdout).toBe(`Kubernetes ${versions.KUBERNETES_VERSION}`);
    const etcd = await execa(path.join(toolsRepoRoot, ".tools/bin/etcd"), ["--version"]);
    expect(etcd.stdout).toContain(`etcd Version: ${versions.ETCD_VERSION?.replace(/^v/, "")}`);
  });

  it("pins the distribution registry and Helm's CLI in their wrapper modules, version-stamped as upstream stamps them", async () => {
    const versions = pinnedVersions();
    const registry = await execa(path.join(toolsRepoRoot, ".tools/bin/registry"), ["--version"]);
    expect(registry.stdout).toBe(
      `${path.join(toolsRepoRoot, ".tools/bin/registry")} github.com/distribution/distribution/v3 ${versions.REGISTRY_VERSION}`,
    );
    const helm = await execa(path.join(toolsRepoRoot, ".tools/bin/helm"), [
      "version",
      "--template",
      "{{.Version}}",
    ]);
    expect(helm.stdout).toBe(versions.HELM_VERSION);
    // The Helm SDK helm-controller links: the version the charts are packaged and pulled with.
    const controllerMod = readFileSync(
      path.join(toolsRepoRoot, "tools/bootstrap/go/helm-controller/go.mod"),
      "utf8",
    );
    expect(controllerMod).toContain(`helm.sh/helm/v4 ${versions.HELM_VERSION}`);
  });

  it("builds Kyverno's CLI at the version platform.yaml declares, version-stamped as upstream stamps it", async () => {
    const versions = pinnedVersions();
    const { stdout } = await execa(path.join(toolsRepoRoot, ".tools/bin/kyverno"), ["version"]);
    expect(stdout).toContain(`Version: ${versions.KYVERNO_VERSION}`);
    const platform = parse(
      readFileSync(path.join(toolsRepoRoot, "apps/haos-enigma/platform.yaml"), "utf8"),
    ) as {
      spec: { versions: { kyverno: string } };
    };
    expect(platform.spec.versions.kyverno).toBe(versions.KYVERNO_VERSION);
  });

  it("builds kustomize-build with the kustomize library versions.env pins (kubectl 1.34's)", async () => {
    const { stdout } = await execa(path.join(toolsRepoRoot, ".tools/bin/kustomize-build"), ["--version"]);
    expect(stdout).toBe(
      `kustomize-build (kustomize v5.7.1, sigs.k8s.io/kustomize/api ${pinnedVersions().KUSTOMIZE_API_VERSION}, kyaml v0.20.1)`,
    );
  });

  it("builds flux-render with helm-controller's and kustomize-controller's libraries at their pins", async () => {
    const { stdout } = await execa(path.join(toolsRepoRoot, ".tools/bin/flux-render"), ["--version"]);
    expect(stdout).toBe(
      `flux-render (helm v4.2.4, fluxcd/pkg/chartutil v1.27.2, helm-controller/api ${pinnedVersions().HELM_CONTROLLER_VERSION}, fluxcd/pkg/kustomize v1.35.0, fluxcd/pkg/envsubst v1.7.0, kustomize/api v0.21.1)`,
    );
  });
});
