// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Flux's ${VAR} syntax throughout
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadWorkspace } from "../manifests/workspace.ts";
import { type EnvsubstItem, type Renderer, startRenderer } from "../render/helper.ts";
import { buildStage } from "./build-stage.ts";
import { referencedVariables, type Substituter } from "./flux.ts";

// substitute() (validate's and diff's build stage) is Flux's postBuild substitution by
// kustomize-controller v1.9.0's own code: flux-render's envsubst op (fluxcd/pkg/kustomize
// SubstituteVariables, fluxcd/pkg/envsubst v1.7.0, sigs.k8s.io/yaml). These tests run the real
// kustomize build and the real flux-render on repositories written to a temporary directory.

let renderer: Renderer;
let tmp: string;

beforeAll(async () => {
  renderer = await startRenderer({ env: process.env });
  tmp = mkdtempSync(path.join(os.tmpdir(), "haos-substitute-"));
});
afterAll(async () => {
  await renderer?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let repos = 0;
/** A repository: files by path; a Flux Kustomization `app` building apps/app with `postBuild`. */
function repo(
  postBuild: unknown,
  appFiles: Record<string, string>,
  extra: Record<string, string> = {},
): string {
  const root = path.join(tmp, `repo-${repos++}`);
  const files: Record<string, string> = {
    "clusters/ks.yaml": stringify({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: "app", namespace: "flux-system" },
      spec: {
        path: "./apps/app",
        sourceRef: { kind: "GitRepository", name: "flux-system" },
        ...(postBuild ? { postBuild } : {}),
      },
    }),
    ...Object.fromEntries(Object.entries(appFiles).map(([f, t]) => [`apps/app/${f}`, t])),
    ...extra,
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

/** buildStage on `root` with the real renderer's envsubst, counting the requests. */
async function stage(root: string) {
  let requests = 0;
  const envsubst: Substituter = async (items) => {
    requests += 1;
    return await renderer.envsubst(items);
  };
  const workspace = await loadWorkspace(["."], { cwd: root, root });
  const result = await buildStage(workspace, { env: process.env, envsubst });
  const object = (name: string) => result.built.resources.find((b) => b.name === name);
  return { result, object, requests: () => requests };
}

const configMap = (name: string, data: string, extra = "") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${data}`;

describe("substitute(): Flux's postBuild substitution through flux-render", () => {
  it("gives what fluxcd/pkg/envsubst v1.7.0 gives where the old TypeScript copy did not (issue 22)", async () => {
    const root = repo(
      { substitute: { SET: "x", EMPTY: "", U: "é€", YES: "yes" } },
      {
        "cm.yaml": configMap(
          "cases",
          "  a: ${SET:+alt}\n  b: ${EMPTY:+alt}\n  c: ${EMPTY:?boom}\n  d: ${#U}\n  e: ${YES}\n  f: $${SET}\n",
        ),
      },
    );
    const { result, object } = await stage(root);
    expect(result.findings).toEqual([]);
    // ${SET:+alt} is the value, ${EMPTY:+alt} the alternative, ${EMPTY:?boom} substitutes the
    // message, ${#U} counts bytes (é€ is 5), and `yes` is re-read as YAML 1.1: true.
    expect(object("cases")?.object.data).toEqual({ a: "x", b: "alt", c: "boom", d: 5, e: true, f: "${SET}" });
  });

  it("keeps the references of variables only the cluster knows, and notes them (no failure on `,,,`)", async () => {
    const root = repo(
      { substituteFrom: [{ kind: "ConfigMap", name: "cluster-settings" }], substitute: { KNOWN: "k" } },
      {
        "cm.yaml": configMap(
          "plex",
          "  networks: ${LAN_SUBNET},${IOT_SUBNET},${POD_CIDR},${SVC_CIDR}\n  known: ${KNOWN}\n",
        ),
      },
    );
    const { result, object } = await stage(root);
    expect(result.findings).toEqual([]);
    const plex = object("plex");
    expect(plex?.object.data).toEqual({
      networks: "${LAN_SUBNET},${IOT_SUBNET},${POD_CIDR},${SVC_CIDR}",
      known: "k",
    });
    expect(plex && result.notes.get(plex)?.unresolved.sort()).toEqual([
      "IOT_SUBNET",
      "LAN_SUBNET",
      "POD_CIDR",
      "SVC_CIDR",
    ]);
    expect(plex && result.notes.get(plex)?.by).toMatch(/^clusters\/ks\.yaml:\d+$/);
  });

  it("reads substituteFrom ConfigMaps and Secrets of the repository in order, substitute last", async () => {
    const root = repo(
      {
        substituteFrom: [
          { kind: "ConfigMap", name: "vars" },
          { kind: "Secret", name: "secret-vars" },
        ],
        substitute: { C: "from-substitute" },
      },
      {
        "cm.yaml": configMap("out", "  a: ${A}\n  b: ${B}\n  c: ${C}\n"),
        "vars.yaml": configMap("vars", '  A: from-configmap\n  B: "overridden"\n  C: "overridden"\n'),
        "secret.yaml": `apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-vars\ndata:\n  B: ${Buffer.from("from-secret\n").toString("base64")}\n`,
      },
    );
    const { result, object } = await stage(root);
    expect(result.findings).toEqual([]);
    // The Secret's trailing newline is removed, as kustomize-controller removes newlines.
    expect(object("out")?.object.data).toEqual({
      a: "from-configmap",
      b: "from-secret",
      c: "from-substitute",
    });
  });

  it("leaves objects annotated kustomize.toolkit.fluxcd.io/substitute: disabled as they are", async () => {
    const root = repo(
      { substitute: { A: "a" } },
      {
        "cm.yaml": configMap(
          "kept",
          "  a: ${A}\n  b: ${UNCLOSED\n",
          "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        ),
      },
    );
    const { result, object } = await stage(root);
    expect(result.findings).toEqual([]);
    expect(object("kept")?.object.data).toEqual({ a: "${A}", b: "${UNCLOSED" });
  });

  it("reports a substitution Flux fails as flux/substitution at the line and column of the expression", async () => {
    const root = repo({ substitute: { A: "a" } }, { "bad.yaml": configMap("bad", "  b: ${UNCLOSED\n") });
    const { result } = await stage(root);
    expect(result.findings.map((f) => [f.rule, f.file, f.line, f.column])).toEqual([
      ["flux/substitution", "apps/app/bad.yaml", 6, 6],
    ]);
    expect(result.findings[0]?.message).toContain("ConfigMap bad: Flux's variable substitution fails");
  });

  it("starts no renderer when nothing substitutes, and asks it once for a whole run", async () => {
    const none = await stage(repo(undefined, { "cm.yaml": configMap("plain", "  a: ${A}\n") }));
    expect(none.requests()).toBe(0);
    expect(none.object("plain")?.object.data).toEqual({ a: "${A}" });
    const many = await stage(
      repo(
        { substitute: { A: "a" } },
        { "one.yaml": configMap("one", "  a: ${A}\n"), "two.yaml": configMap("two", "  a: ${A}-2\n") },
      ),
    );
    expect(many.requests()).toBe(1);
    expect(many.object("two")?.object.data).toEqual({ a: "a-2" });
  });

  it("substitutes without variables only under substituteStrategy: Always", async () => {
    const files = { "cm.yaml": configMap("defaults", "  a: ${A:=fallback}\n") };
    const withVariables = await stage(repo({ substitute: {} }, files));
    expect(withVariables.object("defaults")?.object.data).toEqual({ a: "${A:=fallback}" });
    const always = await stage(repo({ substitute: {}, substituteStrategy: "Always" }, files));
    expect(always.object("defaults")?.object.data).toEqual({ a: "fallback" });
  });

  it("finds the referenced names as Flux's parser does ($$ escapes)", () => {
    expect([...referencedVariables("${A} $${B} $$${C} ${#D} ${E:=${F}} $G")]).toEqual([
      "A",
      "C",
      "D",
      "E",
      "F",
    ]);
  });
});

describe("property: substitute() equals fluxcd/pkg/envsubst on the variables Flux would collect", () => {
  const names = ["A", "B", "C", "D"] as const;
  const value = fc.oneof(
    fc.constantFrom("", "yes", "no", "on", "5", "007", "x y", "é€", "a\nb", "true", "null", "~", "#c"),
    fc.stringMatching(/^[a-z0-9 _.-]{0,8}$/),
  );
  const varsArb = fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 4 });
  const name = fc.constantFrom(...names, "UNSET");
  const word = fc.stringMatching(/^[a-z0-9-]{0,4}$/);
  const expression = fc.oneof(
    name.map((n) => `\${${n}}`),
    fc
      .tuple(name, fc.constantFrom(":=", ":-", "=", ":+", ":?"), word)
      .map(([n, op, w]) => `\${${n}${op}${w}}`),
    name.map((n) => `\${#${n}}`),
    fc.tuple(name, fc.constantFrom("^", "^^", ",", ",,")).map(([n, op]) => `\${${n}${op}}`),
    name.map((n) => `$\${${n}}`),
    word,
  );
  const field = fc.array(expression, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(""));
  const sample = fc.record({
    fromConfigMap: varsArb,
    fromSecret: varsArb,
    substitute: varsArb,
    fields: fc.array(field, { minLength: 1, maxLength: 4 }),
  });

  it("object by object, error for error", async () => {
    let compared = 0;
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(sample, { minLength: 4, maxLength: 4 }), async (samples) => {
        // One repository per run, one Flux Kustomization per sample.
        const files: Record<string, string> = {};
        const texts: { name: string; text: string; vars: Record<string, string> }[] = [];
        for (const [i, s] of samples.entries()) {
          files[`clusters/ks-${i}.yaml`] = stringify({
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: `app-${i}`, namespace: "flux-system" },
            spec: {
              path: `./apps/app-${i}`,
              sourceRef: { kind: "GitRepository", name: "flux-system" },
              postBuild: {
                substitute: s.substitute,
                substituteFrom: [
                  { kind: "ConfigMap", name: `vars-${i}` },
                  { kind: "Secret", name: `secret-${i}` },
                ],
              },
            },
          });
          files[`apps/app-${i}/vars.yaml`] = stringify(
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: `vars-${i}`, namespace: "flux-system" },
              data: s.fromConfigMap,
              // Quoted: a plain `0_` is an integer to a YAML 1.1 reader (kustomize), not a string.
            },
            { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" },
          );
          files[`apps/app-${i}/secret.yaml`] = stringify({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: `secret-${i}`, namespace: "flux-system" },
            data: Object.fromEntries(
              Object.entries(s.fromSecret).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
            ),
          });
          const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: out-${i}\ndata:\n${s.fields.map((f, j) => `  f${j}: ${f}\n`).join("")}`;
          files[`apps/app-${i}/out.yaml`] = text;
          // What kustomize-controller collects: substituteFrom in order, then substitute on top.
          texts.push({
            name: `out-${i}`,
            text,
            vars: { ...s.fromConfigMap, ...s.fromSecret, ...s.substitute },
          });
        }
        const root = path.join(tmp, `property-${repos++}`);
        for (const [file, text] of Object.entries(files)) {
          mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
          writeFileSync(path.join(root, file), text);
        }
        const { result, object } = await stage(root);
        const direct = await renderer.envsubst(texts.map(({ text, vars }): EnvsubstItem => ({ text, vars })));
        for (const [i, { name, text }] of texts.entries()) {
          const want = direct[i];
          const finding = result.findings.find((f) => f.file === `apps/app-${i}/out.yaml`);
          const got = object(name);
          if (want?.error) {
            // The file may not even build (kustomize reads it first): then no object either.
            if (got?.text !== undefined) expect(finding?.rule, text).toBe("flux/substitution");
            failed += 1;
          } else {
            compared += 1;
            expect(finding, text).toBeUndefined();
            expect(got?.object, text).toEqual(want?.object);
          }
        }
        rmSync(root, { recursive: true, force: true });
      }),
      { numRuns: 25 },
    );
    // The property compared real substitutions (not only failures).
    expect(compared).toBeGreaterThan(50);
    process.stderr.write(`substitute property: ${compared} objects identical, ${failed} failing alike\n`);
  }, 240_000);
});
