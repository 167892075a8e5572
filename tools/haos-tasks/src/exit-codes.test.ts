import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../test/support/cli.ts";
import { exitCodesText } from "./exit-codes.ts";
import { toolsRepoRoot } from "./tools/paths.ts";

// One truth for exit codes: src/exit-codes.ts. The root --help, validate --help and README.md
// print its words; a code added or reworded in one place only fails here.
describe("exit codes", () => {
  const readme = readFileSync(path.join(toolsRepoRoot, "README.md"), "utf8").replace(/\s*\n\s*/g, " ");

  it("README.md, `haos-tasks --help` and `validate --help` say the same", async () => {
    expect(readme).toContain(exitCodesText());
    const root = await runCli(["--help"], { cwd: toolsRepoRoot, env: {} });
    expect(root.stdout).toContain(`exit codes: ${exitCodesText()}`);
    const validate = await runCli(["validate", "--help"], { cwd: toolsRepoRoot, env: {} });
    expect(validate.stdout.replace(/\s*\n\s*/g, " ")).toContain(`exit codes: ${exitCodesText([0, 1, 2])}`);
    expect(exitCodesText()).toBe(
      "0 ok, 1 findings / failure, 2 usage, configuration or I/O error, 3 timeout, 4 missing permission (the message names the rule), 5 API unreachable",
    );
  });
});
