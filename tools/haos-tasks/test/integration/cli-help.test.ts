import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closest, wantsColour } from "../../src/cli/command.ts";
import { runCli } from "../support/cli.ts";
import { freePort } from "../support/processes.ts";
import { type AppFixture, writeAppFixture } from "../support/verify-harness.ts";

// What a new user meets first: help that answers, parse errors in our words, colour as asked.
describe("haos-tasks help and parse errors", () => {
  let fixture: AppFixture;
  beforeAll(() => {
    fixture = writeAppFixture("cli-help");
  });
  afterAll(() => rmSync(fixture.repoRoot, { recursive: true, force: true }));

  const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => runCli(argv, { cwd: fixture.repoRoot, env });

  it.each([
    ["release", "--help"],
    ["schemas", "--help"],
    ["help", "release"],
  ])("`%s %s` is the group's help", async (...argv) => {
    const result = await cli(argv);
    expect(result.code).toBe(0);
    const group = argv.includes("release") ? "release" : "schemas";
    expect(result.stdout).toMatch(new RegExp(`^haos-tasks ${group} — `));
    expect(result.stdout).toContain(group === "release" ? "release plan" : "schemas sync");
    expect(result.stdout).toContain("examples:");
  });

  it("`release` alone prints the group's help as a usage error", async () => {
    const result = await cli(["release"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: haos-tasks release <plan|apply>");
  });

  it.each([
    ["validate"],
    ["schemas", "sync"],
    ["release", "plan"],
    ["release", "apply"],
    ["verify"],
    ["diff"],
  ])("`help %s` and `%s --help` give the command's help, with examples", async (...path) => {
    const viaHelp = await cli(["help", ...path]);
    const viaFlag = await cli([...path, "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toMatch(new RegExp(`^haos-tasks ${path.join(" ")} — `));
    expect(viaHelp.stdout).toMatch(/\nexamples:\n {2}haos-tasks /);
  });

  it("a mistyped command gets a suggestion", async () => {
    const result = await cli(["valdiate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown command 'valdiate'; did you mean 'validate'\?/);
    expect((await cli(["release", "plna"])).stderr).toContain("did you mean 'release plan'?");
    expect((await cli(["help", "verfy"])).stderr).toContain("did you mean 'verify'?");
  });

  it("an unknown flag is said in our words, with the closest flag", async () => {
    const result = await cli(["verify", "--tiemout", "5s"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: haos-tasks verify has no option --tiemout; did you mean --timeout?\nrun `haos-tasks verify --help` for its options and examples\n",
    );
    // Not Node's parseArgs text ("Unknown option '--tiemout'. To specify a positional argument…").
    expect(result.stderr).not.toMatch(/Unknown option|positional argument/);
  });

  it("a flag without its value, a switch with one, a stray argument", async () => {
    expect((await cli(["verify", "--revision"])).stderr).toMatch(
      /^error: --revision needs a value: --revision <rev>/,
    );
    expect((await cli(["verify", "--revision", "--timeout", "5s"])).stderr).toMatch(
      /--revision needs a value/,
    );
    expect((await cli(["verify", "--reconcile=yes"])).stderr).toMatch(
      /--reconcile is a switch and takes no value/,
    );
    expect((await cli(["verify", "now"])).stderr).toMatch(/haos-tasks verify takes no argument 'now'/);
  });

  it("closest() takes typos and prefixes, not unrelated words", () => {
    expect(closest("valdiate", ["validate", "verify", "diff"])).toBe("validate");
    expect(closest("rel", ["release", "schemas"])).toBe("release");
    expect(closest("deploy", ["validate", "verify", "diff"])).toBeUndefined();
  });

  it("NO_COLOR and FORCE_COLOR are honoured", async () => {
    expect(wantsColour({}, true)).toBe(true);
    expect(wantsColour({}, false)).toBe(false);
    expect(wantsColour({ NO_COLOR: "1" }, true)).toBe(false);
    expect(wantsColour({ NO_COLOR: "" }, true)).toBe(true);
    expect(wantsColour({ FORCE_COLOR: "1" }, false)).toBe(true);
    expect(wantsColour({ FORCE_COLOR: "0" }, true)).toBe(false);
    const port = await freePort();
    const { tokenKubeconfig } = await import("../support/verify-harness.ts");
    const args = [
      "verify",
      "--revision",
      "HEAD",
      "--timeout",
      "1s",
      "--kubeconfig",
      tokenKubeconfig(`http://127.0.0.1:${port}`, "t"),
    ];
    const forced = await cli(args, { FORCE_COLOR: "1" });
    expect(forced.stdout).toContain("\x1b[");
    const plain = await cli(args, { NO_COLOR: "1" });
    expect(plain.stdout).not.toContain("\x1b[");
  });

  it("diff --path naming no folder at either commit is exit 2, not 'no rendered changes'", async () => {
    const result = await cli(["diff", "--base", fixture.commits.old, "--path", "apps/nonexistent"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/path 'apps\/nonexistent' exists at neither/);
    expect(result.stdout).toBe("");
  });
});
