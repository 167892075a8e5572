import { afterAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { validate } from "../../src/validate/pipeline.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

// validate's secrets/plaintext-credential rule over real files through the real pipeline
// (kustomize build included): the GitHub credential of the runner scale set must never be in Git
// unencrypted, whichever way it is spelled. The key material below is a fixed fake, never a key.

const scratch = createScratchRepo("haos-runner-credentials-");
afterAll(() => scratch.remove());
const repo = scratch.dir;
const write = (files: Record<string, string>) => scratch.write(files);

const fakePem = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEfakefakefakefakefake",
  "-----END RSA PRIVATE KEY-----",
];
const fakeToken = `ghp_${"a1B2".repeat(9)}`;

const scaleSet = (githubConfigSecret: string) => `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: runner
  namespace: tenant-root
spec:
  interval: 1h
  chart:
    spec:
      chart: gha-runner-scale-set
      version: 0.14.2
      sourceRef: {kind: HelmRepository, name: arc, namespace: arc-systems}
  values:
    githubConfigUrl: https://github.com/example/repo
${githubConfigSecret}
`;

async function credentialFindings(app: string) {
  const result = await validate({ env: process.env, targets: [app], cwd: repo });
  return result.findings
    .filter((f) => f.rule === "secrets/plaintext-credential")
    .map((f) => `${f.file}:${f.line} ${f.message}`);
}

describe("secrets/plaintext-credential", () => {
  it("reports an inline GitHub App key in the scale set's values at its line", async () => {
    write({
      "apps/inline/kustomization.yaml": "resources:\n  - runner.yaml\n",
      "apps/inline/runner.yaml": scaleSet(
        [
          "    githubConfigSecret:",
          '      github_app_id: "123456"',
          '      github_app_installation_id: "654321"',
          "      github_app_private_key: |",
          ...fakePem.map((l) => `        ${l}`),
        ].join("\n"),
      ),
    });
    const found = await credentialFindings("apps/inline");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^apps\/inline\/runner\.yaml:18 HelmRelease tenant-root\/runner: github_app_private_key is set in plaintext at \/spec\/values\/githubConfigSecret\/github_app_private_key/,
    );
  });

  it("reports a token in stringData, a key in base64 data, and a PEM or token under any key", async () => {
    write({
      "apps/secrets/kustomization.yaml": "resources:\n  - secrets.yaml\n",
      "apps/secrets/secrets.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: pat
  namespace: tenant-root
stringData:
  github_token: ${fakeToken}
---
apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: tenant-root
data:
  github_app_id: ${Buffer.from("123456").toString("base64")}
  github_app_private_key: ${Buffer.from(fakePem.join("\n")).toString("base64")}
  other: ${Buffer.from(fakePem.join("\n")).toString("base64")}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: leaked
  namespace: tenant-root
data:
  notes: "the token is ${fakeToken}"
`,
    });
    expect(await credentialFindings("apps/secrets")).toEqual([
      `apps/secrets/secrets.yaml:7 Secret tenant-root/pat: github_token is set in plaintext at /stringData/github_token: anyone who can read the repository has it`,
      `apps/secrets/secrets.yaml:16 Secret tenant-root/app: github_app_private_key is set in plaintext at /data/github_app_private_key: anyone who can read the repository has it`,
      `apps/secrets/secrets.yaml:17 Secret tenant-root/app: a PEM private key is set in plaintext at /data/other: anyone who can read the repository has it`,
      `apps/secrets/secrets.yaml:25 ConfigMap tenant-root/leaked: a GitHub token is set in plaintext at /data/notes: anyone who can read the repository has it`,
    ]);
  });

  it("accepts a Secret named by reference, the chart's empty default and a SOPS-encrypted Secret", async () => {
    write({
      "apps/clean/kustomization.yaml": "resources:\n  - runner.yaml\n  - sops.yaml\n  - default.yaml\n",
      "apps/clean/runner.yaml": scaleSet("    githubConfigSecret: runner-github-app"),
      "apps/clean/default.yaml": scaleSet('    githubConfigSecret:\n      github_token: ""').replace(
        "name: runner",
        "name: runner-default",
      ),
      "apps/clean/sops.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: runner-github-app
  namespace: tenant-root
stringData:
  github_app_id: ENC[AES256_GCM,data:MTIzNDU2,iv:aXY=,tag:dGFn,type:str]
  github_app_private_key: ENC[AES256_GCM,data:LS0tLS1CRUdJTg==,iv:aXY=,tag:dGFn,type:str]
sops:
  age:
    - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOQ==
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2026-11-30T12:00:00Z"
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  version: 3.9.1
`,
    });
    expect(await credentialFindings("apps/clean")).toEqual([]);
  });

  it("finds no credential in the shipped apps", async () => {
    const result = await validate({ env: process.env, targets: ["apps"], cwd: toolsRepoRoot });
    expect(result.findings.filter((f) => f.rule === "secrets/plaintext-credential")).toEqual([]);
    expect(result.stats.objects).toBeGreaterThan(0);
  });
});
