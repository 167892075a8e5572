import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../test/support/cli.ts";
import { ExitCode, exitCodesText } from "./exit-codes.ts";
import { toolsRepoRoot } from "./tools/paths.ts";

// One truth for exit codes: src/exit-codes.ts. The root --help, validate --help and README.md
// print its words; a code added or reworded in one place only fails here.
describe("exit codes", () => {
  const readme = readFileSync(path.join(toolsRepoRoot, "README.md"), "utf8").replace(/\s*\n\s*/g, " ");
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");

  it("README.md, `haos-tasks --help` and `validate --help` say the same", async () => {
    expect(readme).toContain(exitCodesText());
    const root = await runCli(["--help"], { cwd: toolsRepoRoot, env: {} });
    expect(root.stdout).toContain(`exit codes: ${exitCodesText()}`);
    const validate = await runCli(["validate", "--help"], { cwd: toolsRepoRoot, env: {} });
    expect(oneLine(validate.stdout)).toContain(`exit codes: ${exitCodesText([0, 1, 2, 70])}`);
    expect(exitCodesText()).toBe(
      "0 ok, 1 findings / failure, 2 usage, configuration or I/O error, 3 timeout, 4 missing permission (the message names the rule), 5 API unreachable, 70 internal error (a bug: please report it with the stack)",
    );
  });

  // Any command can meet a bug: each one's --help names the code it then ends with.
  it.each([
    ["validate"],
    ["diff"],
    ["schemas", "sync"],
    ["release", "plan"],
    ["release", "apply"],
    ["verify"],
  ])("`%s --help` names the internal-error code", async (...command) => {
    const help = await runCli([...command, "--help"], { cwd: toolsRepoRoot, env: {} });
    expect(oneLine(help.stdout)).toContain(exitCodesText([ExitCode.internal]));
  });
});
