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

  it("git runs through src/git/runner.ts (LC_ALL=C, no prompts)", () => {
    // validate/references.ts (one `git remote get-url`) is listed until it moves to the runner.
    const allowed = new Set(["git/runner.ts", "validate/references.ts"]);
    const direct = files.filter(
      (f) =>
        !allowed.has(f) &&
        /(execFile|execFileSync|spawn|spawnSync|execa)\(\s*"git"/.test(
          readFileSync(path.join(src, f), "utf8"),
        ) &&
        !/env: gitEnv\(\)/.test(readFileSync(path.join(src, f), "utf8")),
    );
    expect(direct).toEqual([]);
  });
});
