import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { toolPath } from "../tools/paths.ts";
import { catalogLoader } from "./catalog-loader.ts";
import {
  leafErrors,
  runKubeconform,
  type SchemaInput,
  splitValidationError,
  unquote,
} from "./kubeconform.ts";
import type { CatalogLike } from "./schema-stage.ts";

describe("splitValidationError", () => {
  it("turns an additional-properties error into one error per field, at the field", () => {
    expect(splitValidationError("/spec", "additional properties 'spce', 'a/b' not allowed")).toEqual([
      { pointer: "/spec/spce", message: "unknown field 'spce'", additionalProperty: "spce" },
      { pointer: "/spec/a~1b", message: "unknown field 'a/b'", additionalProperty: "a/b" },
    ]);
  });

  it("keeps other errors at their path", () => {
    expect(splitValidationError("/spec/replicas", "got string, want integer")).toEqual([
      { pointer: "/spec/replicas", message: "got string, want integer" },
    ]);
  });

  it("reads field names with escaped quotes", () => {
    expect(splitValidationError("/m", "additional properties 'x\\'y', 'z' not allowed")).toEqual([
      { pointer: "/m/x'y", message: "unknown field 'x'y'", additionalProperty: "x'y" },
      { pointer: "/m/z", message: "unknown field 'z'", additionalProperty: "z" },
    ]);
  });
});

describe("unquote", () => {
  it("undoes jsonschema's Go-style quoting", () => {
    expect(unquote('it\\\'s "x" a\\\\b \\n \\u00e9')).toBe('it\'s "x" a\\b \n é');
  });
});

describe("leafErrors", () => {
  const head =
    "problem validating schema. Check JSON formatting: jsonschema validation failed with 'file:///s.json#'";

  it("reports the leaves of nested causes, not the 'validation failed' wrappers", () => {
    const msg = `${head} - at '/spec/ports': validation failed   - at '/spec/ports/0': validation failed     - at '/spec/ports/0/port': got string, want integer   - at '/spec/ports/1': missing property 'port' - at '/metadata/annotations/a~1b': got number, want string`;
    expect(leafErrors(msg)).toEqual([
      { pointer: "/spec/ports/0/port", message: "got string, want integer" },
      { pointer: "/spec/ports/1", message: "missing property 'port'" },
      { pointer: "/metadata/annotations/a~1b", message: "got number, want string" },
    ]);
  });

  it("does not take a quoted value for a cause", () => {
    const msg = `${head} - at '/metadata/name': 'x - at \\'y\\': z' does not match pattern '^a$'`;
    expect(leafErrors(msg)).toEqual([
      { pointer: "/metadata/name", message: "'x - at \\'y\\': z' does not match pattern '^a$'" },
    ]);
  });

  it("folds the branches of anyOf/oneOf into one error with the reasons", () => {
    const msg = `${head} - at '/x': 'oneOf' failed, none matched   - at '/x': got string, want integer   - at '/x/a': got number, want string - at '/y': got string, want integer`;
    expect(leafErrors(msg)).toEqual([
      {
        pointer: "/x",
        message: "'oneOf' failed, none matched: got string, want integer; /x/a: got number, want string",
      },
      { pointer: "/y", message: "got string, want integer" },
    ]);
  });
});

describe("runKubeconform with the real kubeconform", () => {
  let catalog: CatalogLike;
  beforeAll(async () => {
    catalog = await catalogLoader({ env: process.env })(undefined);
  });
  const run = async (inputs: SchemaInput[]) =>
    await runKubeconform(inputs, {
      kubeconform: toolPath("kubeconform", process.env),
      schemaLocation: catalog.location,
    });

  it("reports every nested error at its own pointer", async () => {
    const object = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: "3",
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "nginx", porst: 1, ports: [{ containerPort: "80" }] }] },
        },
      },
    };
    const results = await run([{ id: 7, apiVersion: "apps/v1", kind: "Deployment", name: "web", object }]);
    expect(results.map((r) => r.id)).toEqual([7]);
    expect(results[0]?.errors).toEqual(
      expect.arrayContaining([
        { pointer: "/spec/replicas", message: "got string, want integer" },
        {
          pointer: "/spec/template/spec/containers/0/ports/0/containerPort",
          message: "got string, want integer",
        },
        {
          pointer: "/spec/template/spec/containers/0/porst",
          message: "unknown field 'porst'",
          additionalProperty: "porst",
        },
      ]),
    );
    expect(results[0]?.errors).toHaveLength(3);
  });

  it("keeps a result whose name kubeconform cannot read, and tells same-named objects apart", async () => {
    const configMap = (id: number, metadata: Record<string, unknown>, data: unknown): SchemaInput => ({
      id,
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "x",
      object: { apiVersion: "v1", kind: "ConfigMap", metadata, data },
    });
    const results = await run([
      configMap(0, { name: ["a"] }, { a: "b" }),
      configMap(1, { name: "x", namespace: "a" }, { a: "b" }),
      configMap(2, { name: "x", namespace: "b" }, { a: 1 }),
      configMap(3, { generateName: "g-" }, { a: 1 }),
    ]);
    const byId = new Map(results.map((r) => [r.id, r]));
    expect([...byId.keys()].sort()).toEqual([0, 2, 3]);
    expect(byId.get(0)?.status).toBe("error");
    expect(byId.get(0)?.message).toMatch(/cannot unmarshal array/);
    expect(byId.get(2)?.errors).toEqual([{ pointer: "/data/a", message: "got number, want string" }]);
    expect(byId.get(3)?.errors).toEqual([{ pointer: "/data/a", message: "got number, want string" }]);
  });
});

describe("runKubeconform with the answers kept (KubeconformCache)", () => {
  let catalog: CatalogLike;
  beforeAll(async () => {
    catalog = await catalogLoader({ env: process.env })(undefined);
  });
  const cm = (id: number, data: Record<string, unknown>, name = `c${id}`): SchemaInput => ({
    id,
    apiVersion: "v1",
    kind: "ConfigMap",
    name,
    object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data },
  });

  it("checks only what it has not kept, answers the same, and starts no kubeconform for a kept run", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-kubeconform-cache-"));
    try {
      const cache = { dir, identity: "schemas-1" };
      const real = toolPath("kubeconform", process.env);
      const run = (inputs: SchemaInput[], kubeconform = real) =>
        runKubeconform(inputs, { kubeconform, schemaLocation: catalog.location, cache });
      const inputs = [cm(0, { a: "b" }), cm(1, { a: 1 }), cm(2, { b: "c" })];
      const plain = await runKubeconform(inputs, { kubeconform: real, schemaLocation: catalog.location });
      const first = await run(inputs);
      expect(first).toEqual(plain);
      expect(first.map((r) => r.id)).toEqual([1]);
      // Kept: a kubeconform that cannot start is never started, and the answers are the same
      // (tied to the ids of this run).
      let started = false;
      const kept = await runKubeconform([cm(5, { a: 1 }, "c1"), cm(6, { a: "b" }, "c0")], {
        kubeconform: "/nonexistent/kubeconform",
        schemaLocation: catalog.location,
        cache,
        onStart: () => {
          started = true;
        },
      });
      expect(kept.map((r) => [r.id, r.errors])).toEqual([[5, plain[0]?.errors]]);
      expect(started).toBe(true);
      // An object not kept is checked (the missing binary then fails the run).
      await expect(
        run([cm(0, { a: "b" }), cm(7, { a: true })], "/nonexistent/kubeconform"),
      ).rejects.toThrow();
      // Another schema set keeps its own answers.
      await expect(
        runKubeconform([cm(0, { a: "b" })], {
          kubeconform: "/nonexistent/kubeconform",
          schemaLocation: catalog.location,
          cache: { dir, identity: "schemas-2" },
        }),
      ).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
