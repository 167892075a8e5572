import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Finding } from "../../src/findings.ts";
import { lintStyle } from "../../src/lint/style.ts";
import { parseSourceFile, pointerPosition } from "../../src/manifests/yaml-source.ts";
import { catalogLoader } from "../../src/validate/catalog-loader.ts";
import { validate } from "../../src/validate/pipeline.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

// Valid manifests mutated at random (characters deleted or inserted, lines swapped, indentation
// changed) must only ever produce findings: never a throw, never a finding without a place.
const validApp = path.resolve(import.meta.dirname, "../fixtures/validate/flux/health-check-exprs/good");
const appFiles = readdirSync(path.join(validApp, "apps/demo")).map((f) => `apps/demo/${f}`);
const texts = new Map(appFiles.map((f) => [f, readFileSync(path.join(validApp, f), "utf8")]));

type Mutation =
  | { op: "delete"; at: number; length: number }
  | { op: "insert"; at: number; text: string }
  | { op: "swap"; line: number }
  | { op: "indent"; line: number; delta: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(
        ":",
        "- ",
        "\t",
        "\n",
        "{",
        "[",
        '"',
        "'",
        "#",
        "&a ",
        "*a",
        "!!int ",
        "---\n",
        "yes",
        "  ",
        "%",
      ),
      fc.string({ maxLength: 6 }),
    ),
  }),
  fc.record({ op: fc.constant("swap" as const), line: fc.nat() }),
  fc.record({ op: fc.constant("indent" as const), line: fc.nat(), delta: fc.integer({ min: -4, max: 4 }) }),
);

function mutate(text: string, m: Mutation): string {
  if (m.op === "delete") {
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + text.slice(at + m.length);
  }
  if (m.op === "insert") {
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + m.text + text.slice(at);
  }
  const lines = text.split("\n");
  const i = m.line % lines.length;
  if (m.op === "swap" && i + 1 < lines.length) {
    const a = lines[i] ?? "";
    lines[i] = lines[i + 1] ?? "";
    lines[i + 1] = a;
  }
  if (m.op === "indent") {
    const line = lines[i] ?? "";
    lines[i] = m.delta >= 0 ? " ".repeat(m.delta) + line : line.replace(new RegExp(`^ {0,${-m.delta}}`), "");
  }
  return lines.join("\n");
}

function assertWellFormed(findings: readonly Finding[]): void {
  for (const f of findings) {
    expect(["error", "warning", "info"]).toContain(f.severity);
    expect(f.rule).toMatch(/^[a-z-]+\/[a-z-]+$/);
    expect(f.message.length).toBeGreaterThan(0);
    if (f.file !== undefined) {
      expect(f.line).toBeGreaterThanOrEqual(1);
      expect(f.column ?? 1).toBeGreaterThanOrEqual(1);
    }
  }
}

describe("mutated manifests never crash the validator", () => {
  it("parse, lint and pointer lookup, in process (many runs)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...appFiles),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (file, ms) => {
          const text = ms.reduce(mutate, texts.get(file) ?? "");
          const source = parseSourceFile(text, file);
          assertWellFormed(lintStyle(source));
          for (const doc of source.documents) {
            const pos = pointerPosition(source, doc, "/spec/source/http/url");
            expect(pos.line).toBeGreaterThanOrEqual(1);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  let scratch: ScratchRepo | undefined;
  let repo = "";
  const loadCatalog = catalogLoader({ env: process.env });
  beforeAll(() => {
    scratch = createScratchRepo({ prefix: "haos-validate-property-", from: validApp });
    repo = scratch.dir;
  });
  afterAll(() => scratch?.remove());

  it("the whole pipeline (kustomize, kubeconform, platform rules) on a mutated file", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...appFiles),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (file, ms) => {
          const original = texts.get(file) ?? "";
          await writeFile(path.join(repo, file), ms.reduce(mutate, original));
          try {
            const result = await validate({ env: process.env, targets: ["."], cwd: repo, loadCatalog });
            assertWellFormed(result.findings);
          } finally {
            await writeFile(path.join(repo, file), original);
          }
        },
      ),
      { numRuns: 30 },
    );
    // 30 whole runs take about 4 s on 2 idle cores: the default 5 s leaves no room for a busy machine.
  }, 60_000);
});
