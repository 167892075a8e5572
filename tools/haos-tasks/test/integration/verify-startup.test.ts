import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerifyCli, tokenKubeconfig, writeAppFixture } from "../support/verify-harness.ts";

// An API server whose aggregated apps.cozystack.io API is down: every other kind lists empty,
// apps.cozystack.io answers `status` for ever. No kube-apiserver needed, so the runs are short.
describe("haos-tasks verify when an API keeps failing from the start", () => {
  let server: http.Server;
  let url: string;
  let status = 503;

  beforeAll(async () => {
    // --timeout counts from the command's start, module loading included: load verify's modules
    // now, so the 2 s below are not spent importing on a loaded machine.
    await Promise.all([
      import("../../src/verify/verify.ts"),
      import("../../src/kube/config.ts"),
      import("../../src/verify/options.ts"),
    ]);
    server = http.createServer((req, res) => {
      const json = { "content-type": "application/json" };
      if (req.url?.startsWith("/apis/apps.cozystack.io")) {
        res.writeHead(status, json);
        res.end(
          JSON.stringify({
            kind: "Status",
            message: "the server is currently unable to handle the request",
            code: status,
          }),
        );
      } else if (req.url?.includes("watch=true")) {
        res.writeHead(200, json);
      } else {
        res.writeHead(200, json);
        res.end(JSON.stringify({ kind: "List", items: [], metadata: { resourceVersion: "1" } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const run = (...extra: string[]) => {
    const fixture = writeAppFixture("startup");
    const args = ["--app", fixture.appDir, "--revision", fixture.commits.target];
    return runVerifyCli([...args, "--kubeconfig", tokenKubeconfig(url, "t"), ...extra], fixture.repoRoot);
  };

  it("the overall --timeout applies while the first list is retried: exit 3, naming the failing API", async () => {
    status = 503;
    const begun = Date.now();
    const result = await run("--timeout", "2s", "--unreachable-after", "60s");
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(3);
    expect(result.report.outcome).toBe("timeout");
    expect(result.report.detail).toMatch(/within the overall deadline .*apps\.cozystack\.io.*HTTP 503/);
    // The retries are reported while they happen, not only at the end.
    expect(result.stderr).toMatch(/apps\.cozystack\.io.*HTTP 503.*retrying in \d+ ms/);
    expect(Date.now() - begun).toBeLessThan(6_000);
  });

  it.each([503, 429])(
    "an API answering %i for longer than --unreachable-after ends with exit 5",
    async (code) => {
      status = code;
      const begun = Date.now();
      const result = await run("--timeout", "60s", "--unreachable-after", "1500ms");
      expect(result.code, result.stderr).toBe(5);
      expect(result.report.outcome).toBe("unreachable");
      expect(result.report.detail).toMatch(
        new RegExp(`the API for vm(disk|instance)s\\.apps\\.cozystack\\.io keeps failing .*HTTP ${code}`),
      );
      expect(Date.now() - begun).toBeLessThan(8_000);
    },
  );
});
