import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const src = path.resolve(import.meta.dirname, "..");
const files = (readdirSync(src, { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => f.split(path.sep).join("/"));
/** The code without its comments (a comment may name process.env to say it is not read). */
const stripComments = (text: string): string =>
  text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
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
    // Internal signals caught where they are thrown, never an error a user sees.
    const internal = new Set([
      "errors.ts:HintedError",
      "kube/client.ts:ResponseTooLargeError",
      "manifests/simple-yaml.ts:NotSimple",
    ]);
    const plain = files.flatMap((f) =>
      [...readFileSync(path.join(src, f), "utf8").matchAll(/class (\w+) extends Error\b/g)]
        .map((m) => `${f}:${m[1]}`)
        .filter((c) => !internal.has(c)),
    );
    expect(plain).toEqual([]);
  });

  it("no process.env outside the edges: capabilities get the environment in their options", () => {
    // The CLI's and the Action's entry points read it and pass it on. git/runner.ts is where
    // every git child starts: it inherits the user's environment (HOME, PATH, SSH agent,
    // credential helpers) with LC_ALL=C and no prompts on top, whatever capability called.
    const edges = new Set(["cli/main.ts", "action/main.ts", "git/runner.ts"]);
    const readers = files.filter(
      (f) => !edges.has(f) && /\bprocess\.env\b/.test(stripComments(readFileSync(path.join(src, f), "utf8"))),
    );
    expect(readers).toEqual([]);
  });

  it("no import cycle anywhere in src", () => {
    const known = new Set(files);
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => known.has(i))]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, "open");
      stack.push(f);
      for (const next of graph.get(f) ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" → "));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
