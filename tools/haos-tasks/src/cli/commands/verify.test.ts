import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../main.ts";

const repo = mkdtempSync(path.join(os.tmpdir(), "haos-verify-cli-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
mkdirSync(path.join(repo, "apps", "bare"), { recursive: true });

/** Misconfigurations end before any cluster access: no API server is needed. */
async function verify(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await main(["verify", "--revision", "a".repeat(40), ...args], {
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
    },
    env: { GITHUB_SHA: "", GITHUB_STEP_SUMMARY: "", GITHUB_ACTIONS: "" },
    cwd: repo,
    isTTY: false,
  });
  return { code, stderr };
}

describe("haos-tasks verify's misconfigurations (exit 2)", () => {
  it.each(["192.168.50.101:8123", "htp//192.168.50.101:8123", "ftp://192.168.50.101/", "localhost:8123"])(
    "a malformed --app-url (%s) is named up front, not waited on",
    async (url) => {
      const result = await verify("--app", "apps/bare", "--app-url", url);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--app-url must be an http:// or https:// URL`);
      expect(result.stderr).toContain(`got '${url}'`);
    },
  );

  it("a missing --app folder is named before platform.yaml and the kubeconfig", async () => {
    const result = await verify("--app", "apps/nope", "--kubeconfig", path.join(repo, "no-such-kubeconfig"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /apps\/nope: no such app folder\n {2}fix: pass --app <folder of the Flux app>/,
    );
    expect(result.stderr).not.toMatch(/platform|kubeconfig|credentials/);
  });

  it("an app folder without platform.yaml is named before the kubeconfig", async () => {
    const result = await verify("--app", "apps/bare", "--kubeconfig", path.join(repo, "no-such-kubeconfig"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/apps\/bare\/platform\.yaml: platform declaration not found/);
    expect(result.stderr).not.toMatch(/kubeconfig|credentials/);
  });
});
