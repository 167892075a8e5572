import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const src = path.resolve(import.meta.dirname, "..");
const files = (readdirSync(src, { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => f.split(path.sep).join("/"));
const importsOf = (file: string): string[] =>
  [...readFileSync(path.join(src, file), "utf8").matchAll(/(?:from|import\()\s*"(\.[^"]+)"/g)].map((m) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1] ?? "")),
  );

// The CLI and the Action are thin shells around the core: the core never imports them, and the
// two shells do not import each other (exit codes live in src/exit-codes.ts, on neutral ground).
describe("module boundaries", () => {
  it("nothing outside src/cli imports from src/cli", () => {
    const offenders = files
      .filter((f) => !f.startsWith("cli/"))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => i.startsWith("cli/"))
          .map((i) => `${f} → ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("nothing outside src/action imports from src/action", () => {
    const offenders = files
      .filter((f) => !f.startsWith("action/"))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => i.startsWith("action/"))
          .map((i) => `${f} → ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("the product imports no test code: nothing in src reaches test/ (tests in src may)", () => {
    const offenders = files.flatMap((f) =>
      importsOf(f)
        .filter((i) => i === "../test" || i.startsWith("../test/"))
        .map((i) => `${f} → ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it("git runs through src/git (LC_ALL=C, no prompts, one error type)", () => {
    const allowed = new Set<string>();
    const source = (f: string) => readFileSync(path.join(src, f), "utf8");
    const outside = files.filter((f) => !f.startsWith("git/") && !allowed.has(f));
    const direct = outside.filter((f) =>
      /(execFile|execFileSync|spawn|spawnSync|execa|runTool)\(\s*"git"/.test(source(f)),
    );
    expect(direct).toEqual([]);
    // One runner and one git error: no second `runGit`, no Git…Error class outside src/git.
    const wrappers = outside.filter((f) =>
      /export (async )?function runGit\b|class Git\w*Error\b/.test(source(f)),
    );
    expect(wrappers).toEqual([]);
  });

  it("every error class is a HintedError (message, hint, exit code)", () => {
    // Internal signals caught where they are thrown, never an error a user sees; InjectedFault is
    // a test hook on its way out of the product.
    const internal = new Set([
      "errors.ts:HintedError",
      "kube/client.ts:ResponseTooLargeError",
      "manifests/simple-yaml.ts:NotSimple",
      "release/apply.ts:InjectedFault",
    ]);
    const plain = files.flatMap((f) =>
      [...readFileSync(path.join(src, f), "utf8").matchAll(/class (\w+) extends Error\b/g)]
        .map((m) => `${f}:${m[1]}`)
        .filter((c) => !internal.has(c)),
    );
    expect(plain).toEqual([]);
  });
});
