import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generatedIndexSpecifier, isClientNodeConfig, slimGeneratedIndex } from "./client-node-slim.ts";

const require = createRequire(import.meta.url);
const clientNodeDist = path.dirname(require.resolve("@kubernetes/client-node/dist/config.js"));

describe("slim @kubernetes/client-node loading", () => {
  it("provides every name client-node's config.js imports from its generated index, as the same objects", async () => {
    const source = readFileSync(path.join(clientNodeDist, "config.js"), "utf8");
    const imports = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)].filter(
      (m) => m[2] === generatedIndexSpecifier,
    );
    expect(imports, "config.js imports ./gen/index.js exactly once").toHaveLength(1);
    const names = (imports[0]?.[1] ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean);
    expect(names.length).toBeGreaterThan(0);
    const slim = (await import(slimGeneratedIndex.href)) as Record<string, unknown>;
    const full = (await import(path.join(clientNodeDist, "gen", "index.js"))) as Record<string, unknown>;
    for (const name of names) {
      expect(slim[name], name).toBeDefined();
      expect(slim[name], name).toBe(full[name]);
    }
  });

  it("redirects only client-node's own config.js", () => {
    expect(isClientNodeConfig("file:///x/node_modules/@kubernetes/client-node/dist/config.js")).toBe(true);
    expect(isClientNodeConfig("file:///x/node_modules/@kubernetes/client-node/dist/api.js")).toBe(false);
    expect(isClientNodeConfig("file:///x/src/config.js")).toBe(false);
    expect(isClientNodeConfig(undefined)).toBe(false);
  });

  it("loads a working KubeConfig without the generated API index once registered", () => {
    const script = `
      import { registerHooks } from "node:module";
      const { registerSlimClientNode } = await import(${JSON.stringify(new URL("./client-node-slim.ts", import.meta.url).href)});
      registerSlimClientNode();
      let generated = 0;
      registerHooks({ resolve(s, c, next) { const r = next(s, c); if (r.url.endsWith("/dist/gen/index.js")) generated++; return r; } });
      const { loadKubeConfig } = await import(${JSON.stringify(new URL("./config.ts", import.meta.url).href)});
      const { writeFileSync, mkdtempSync } = await import("node:fs");
      const dir = mkdtempSync("/tmp/haos-slim-");
      writeFileSync(dir + "/config", "apiVersion: v1\\nkind: Config\\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\\nusers: [{name: u, user: {token: t}}]\\ncontexts: [{name: c, context: {cluster: c, user: u}}]\\ncurrent-context: c\\n");
      const kc = loadKubeConfig(dir + "/config");
      const opts = {};
      await kc.applyToHTTPSOptions(opts);
      console.log(JSON.stringify({ generated, server: kc.getCurrentCluster().server, auth: opts.headers?.Authorization }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ generated: 0, server: "https://127.0.0.1:6443", auth: "Bearer t" });
  });
});
