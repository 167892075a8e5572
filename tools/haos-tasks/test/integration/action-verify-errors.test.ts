import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/processes.ts";
import { type AppFixture, tokenKubeconfig, writeAppFixture } from "../support/verify-harness.ts";
import { runBundledAction, sourceEntry } from "./action-harness.ts";

// The Action's verify failures as a workflow's author sees them: one ::error per failure, in the
// Action's own words (inputs, not the CLI's flags). Runs the sources (dist is rebuilt on merge).
describe("the Action's verify command reports one error, naming its inputs", () => {
  let fixture: AppFixture;
  let failing: http.Server;
  let failingUrl: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    fixture = writeAppFixture("action-errors");
    failing = http.createServer((_req, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          code: 503,
          message: "the server is currently unable to handle the request",
        }),
      );
    });
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    const address = failing.address();
    failingUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    failing.closeAllConnections();
    await new Promise((resolve) => failing.close(resolve));
    for (const dir of [fixture.repoRoot, ...dirs]) rmSync(dir, { recursive: true, force: true });
  });

  const run = (inputs: Record<string, string>) =>
    runBundledAction(
      { command: "verify", app: fixture.appDir, revision: "HEAD", ...inputs },
      { workspace: fixture.repoRoot, sha: fixture.commits.target, entry: sourceEntry },
    );

  it("an API failing at start: one ::error whose fix names the timeout input", async () => {
    const result = await run({ kubeconfig: tokenKubeconfig(failingUrl, "t"), timeout: "2s" });
    expect(result.code, result.stdout).toBe(1);
    expect(result.outputs["verify-outcome"]).toBe("timeout");
    expect(result.errors, result.stdout).toHaveLength(1);
    expect(result.errors[0]).toMatch(/could not be listed within the overall deadline/);
    expect(result.errors[0]).toContain("raise input 'timeout'");
    expect(result.stdout).not.toMatch(/--timeout|--kubeconfig/);
    expect(JSON.parse(result.outputs["verify-report"] ?? "{}").hint).toContain("input 'timeout'");
  });

  it("a refused port: one ::error, outcome unreachable", async () => {
    const port = await freePort();
    const result = await run({ kubeconfig: tokenKubeconfig(`http://127.0.0.1:${port}`, "t"), timeout: "3s" });
    expect(result.outputs["verify-outcome"]).toBe("unreachable");
    expect(result.errors, result.stdout).toHaveLength(1);
    expect(result.errors[0]?.match(/ECONNREFUSED/g)).toHaveLength(1);
  });

  it("a kubeconfig that does not exist: misconfigured, one ::error naming the kubeconfig input", async () => {
    const result = await run({ kubeconfig: "/nonexistent/config" });
    expect(result.outputs["verify-outcome"]).toBe("misconfigured");
    expect(result.errors, result.stdout).toHaveLength(1);
    expect(result.errors[0]).toContain("the kubeconfig /nonexistent/config does not exist");
    expect(result.errors[0]).toContain("input 'kubeconfig'");
    expect(result.errors[0]).not.toContain("--kubeconfig");
  });

  it("a current-context naming no context: the file and the context are named", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-kubeconfig-"));
    dirs.push(dir);
    const file = path.join(dir, "config");
    writeFileSync(
      file,
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: enigma\n  context: {cluster: c, user: u}\ncurrent-context: engima\n",
    );
    const result = await run({ kubeconfig: file });
    expect(result.outputs["verify-outcome"]).toBe("misconfigured");
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(
      `${file}: current-context 'engima' names no context (it defines: enigma)`,
    );
  });

  it("a bad input value is named as the input", async () => {
    const result = await run({ timeout: "soon" });
    expect(result.errors).toEqual([
      "verify misconfigured: input 'timeout' must be a duration like 30m, 90s or 1h30m (got 'soon')",
    ]);
  });
});
