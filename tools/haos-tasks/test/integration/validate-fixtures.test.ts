import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ruleCatalog } from "../../src/lint/rules.ts";
import { catalogLoader } from "../../src/validate/catalog-loader.ts";
import { validate } from "../../src/validate/pipeline.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

// One good and one bad mini repository per rule under test/fixtures/validate/<rule id>/. The bad
// one lists the findings it must produce in expected.json ({file, line, rule}); the good one must
// produce none at all. Everything runs for real: kubectl kustomize, kubeconform, the schema catalog.
const fixturesRoot = path.resolve(import.meta.dirname, "../fixtures/validate");

function fixtureRules(): string[] {
  const rules: string[] = [];
  const walk = (dir: string, prefix: string[]) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (!statSync(full).isDirectory()) continue;
      if (existsSync(path.join(full, "bad", "expected.json"))) rules.push([...prefix, name].join("/"));
      else walk(full, [...prefix, name]);
    }
  };
  walk(fixturesRoot, []);
  return rules.sort();
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

const loadCatalog = catalogLoader({ env: process.env });

/** Validates a copy of a fixture directory as a fresh git repository. */
async function runRepository(fixture: string, targets: string[] = ["."], origin?: string) {
  const repo = createScratchRepo({
    prefix: "haos-validate-fixture-",
    from: path.join(fixturesRoot, fixture),
  });
  const dir = repo.dir;
  scratch.push(dir);
  if (origin) repo.git("remote", "add", "origin", origin);
  // A fixture that needs a flag (e.g. --strict) names it in options.json.
  const optionsFile = path.join(dir, "options.json");
  const extra = existsSync(optionsFile)
    ? (JSON.parse(readFileSync(optionsFile, "utf8")) as { strict?: boolean })
    : {};
  return await validate({ env: process.env, targets, cwd: dir, loadCatalog, ...extra });
}

async function runFixture(rule: string, variant: "good" | "bad") {
  return await runRepository(path.join(rule, variant));
}

const rules = fixtureRules();

describe("validate fixtures (one good, one bad per rule)", () => {
  it("cover every rule", () => {
    const missing = ruleCatalog.map((r) => r.id).filter((id) => !rules.includes(id));
    expect(missing).toEqual([]);
  });

  for (const rule of rules) {
    it(`${rule}: the bad fixture reports it at the expected file and line`, async () => {
      const expected = JSON.parse(
        readFileSync(path.join(fixturesRoot, rule, "bad", "expected.json"), "utf8"),
      ) as {
        file: string;
        line: number;
        rule: string;
      }[];
      const result = await runFixture(rule, "bad");
      const got = result.findings
        .filter((f) => f.rule === rule)
        .map((f) => ({ file: f.file, line: f.line, rule: f.rule }));
      expect(got).toEqual(expected);
      for (const f of result.findings.filter((x) => x.rule === rule)) expect(f.hint).toBeTruthy();
    });

    it(`${rule}: the good fixture has no findings`, async () => {
      const result = await runFixture(rule, "good");
      expect(result.findings).toEqual([]);
    });
  }
});

// Whole repository layouts from the wild (test/fixtures/validate/layouts/<name>) and the findings
// each must produce, as {file, line, rule}; most must validate clean.
describe("validate repository layouts", () => {
  const cases: {
    layout: string;
    targets?: string[];
    expected: { file: string; line: number; rule: string }[];
    /** Objects validate checks, when the case is about which files are checked at all. */
    objects?: number;
    /** `git remote add origin` before validating. */
    origin?: string;
  }[] = [
    // fluxcd/flux2-kustomize-helm-example: the same Flux Kustomization in each cluster's folder.
    { layout: "multi-cluster", expected: [] },
    // `resources: [sub/]` names the directory sub: built once, through app.
    { layout: "trailing-slash", expected: [] },
    // clusters/home/apps is the spec.path of the Flux Kustomization apps.yaml, not a folder the
    // kustomization of clusters/home forgot: its Namespace is checked on its own (3 objects).
    { layout: "flux-path-directory", expected: [], objects: 3 },
    // spec.path of another repository and of an OCI artifact: nothing here to look it up in.
    // Said once per source (an info), never built as this tree; podinfo's GitRepository cannot be
    // compared without an origin remote.
    {
      layout: "foreign-source",
      expected: [{ file: "clusters/home/podinfo.yaml", line: 34, rule: "flux/foreign-source" }],
    },
    // A GitRepository not named flux-system is this repository when its url is the origin's.
    {
      layout: "own-source",
      origin: "git@github.com:me/cluster",
      expected: [{ file: "clusters/home/source.yaml", line: 20, rule: "references/flux-path" }],
    },
    {
      layout: "own-source",
      origin: "https://github.com/me/other.git",
      expected: [{ file: "clusters/home/source.yaml", line: 9, rule: "flux/foreign-source" }],
    },
    { layout: "own-source", expected: [] },
    // `kind: HelmRepository # the chart repo` in infra/ still resolves the sourceRef of apps/web.
    // (Its chart is on a repository this machine cannot reach: one helm/chart-unavailable warning.)
    {
      layout: "kind-comment",
      targets: ["apps/web"],
      expected: [{ file: "apps/web/hr.yaml", line: 8, rule: "helm/chart-unavailable" }],
    },
    // Checking one folder: the GitRepository's url comes from the rest of the repository.
    {
      layout: "own-source-elsewhere",
      targets: ["clusters/home"],
      origin: "git@github.com:me/cluster.git",
      expected: [{ file: "clusters/home/demo.yaml", line: 8, rule: "references/flux-path" }],
    },
  ];
  for (const c of cases) {
    const title = `${c.layout}${c.origin ? ` (origin ${c.origin})` : ""}`;
    it(`${title}: ${c.expected.length === 0 ? "no findings" : c.expected.map((e) => e.rule).join(", ")}`, async () => {
      const result = await runRepository(path.join("layouts", c.layout), c.targets, c.origin);
      expect(result.findings.map((f) => ({ file: f.file, line: f.line, rule: f.rule }))).toEqual(c.expected);
      if (c.objects !== undefined) expect(result.stats.objects).toBe(c.objects);
    });
  }
});
