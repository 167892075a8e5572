import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { instanceSync, pushedFolders } from "./sources.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "haos-pushed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pushedFolders", () => {
  it("reads `flux push artifact` in CI files: continued and folded lines, CI expressions in the url", () => {
    mkdirSync(path.join(dir, ".github/workflows"), { recursive: true });
    writeFileSync(
      path.join(dir, ".github/workflows/a.yaml"),
      [
        "jobs:",
        "  push:",
        "    steps:",
        "      - run: |",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions syntax
        "          flux push artifact oci://ghcr.io/${{ github.repository_owner }}/manifests:$(git rev-parse --short HEAD) \\",
        '            --path="./kubernetes" --source="$(git config --get remote.origin.url)"',
        "      - run: >-",
        "          flux push artifact oci://ghcr.io/me/platform:latest",
        "          --path=./platform",
        "      - run: flux push artifact oci://ghcr.io/me/other:1 --path ./other && flux build kustomization x --path ./y",
        "",
      ].join("\n"),
    );
    const found = pushedFolders(dir);
    expect(found.map((f) => f.folder)).toEqual(["kubernetes", "platform", "other"]);
    expect(found[0]?.url.test("oci://ghcr.io/example/manifests")).toBe(true);
    expect(found[0]?.url.test("oci://ghcr.io/example/manifests/deeper")).toBe(false);
    expect(found[1]?.url.test("oci://ghcr.io/me/platform")).toBe(true);
  });
});

describe("instanceSync", () => {
  it("names the source and Kustomization a FluxInstance creates after its namespace, unless sync.name", () => {
    const instance = (sync: Record<string, unknown>) => ({
      apiVersion: "fluxcd.controlplane.io/v1",
      kind: "FluxInstance",
      object: { metadata: { name: "flux", namespace: "flux-system" }, spec: { sync } },
    });
    expect(
      instanceSync(
        instance({ kind: "GitRepository", url: "https://x/y", ref: "refs/heads/main", path: "k" }),
      ),
    ).toEqual({
      kind: "GitRepository",
      name: "flux-system",
      namespace: "flux-system",
      url: "https://x/y",
      branch: "main",
      path: "k",
      pointer: "/spec/sync",
    });
    expect(instanceSync(instance({ kind: "OCIRepository", name: "fleet", url: "oci://x" }))).toMatchObject({
      name: "fleet",
      namespace: "flux-system",
    });
  });

  it("reads the flux-instance chart's values in its target namespace; nothing else has a sync", () => {
    const release = {
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      namespace: "default",
      object: { spec: { targetNamespace: "flux-system", values: { instance: { sync: { path: "k" } } } } },
    };
    expect(instanceSync(release)).toMatchObject({
      kind: "GitRepository",
      name: "flux-system",
      namespace: "flux-system",
      pointer: "/spec/values/instance/sync",
    });
    expect(instanceSync({ ...release, object: { spec: { values: {} } } })).toBeUndefined();
  });
});
