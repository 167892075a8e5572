import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { runCli } from "../../test/support/cli.ts";
import { HintedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { Command } from "./command.ts";

// The command table loads `diff` from its module; the test stands in for that module (a seam the
// test owns, nothing in the product) with a command that throws what the test puts here.
const thrown = vi.hoisted(() => ({ error: undefined as unknown }));
vi.mock("./commands/diff.ts", () => ({
  diffCommand: {
    path: ["diff"],
    summary: "throws what the test says",
    usage: "haos-tasks diff",
    options: {},
    async run() {
      throw thrown.error;
    },
  } satisfies Command,
}));

const runThrowing = (error: unknown, env: NodeJS.ProcessEnv = {}) => {
  thrown.error = error;
  return runCli(["diff"], { cwd: import.meta.dirname, env });
};
const stackLine = /^\s+at /m;

describe("how the CLI ends on a throw", () => {
  it("a bug (a TypeError) prints its stack and exits with the internal-error code, not 2", async () => {
    const bug = (() => {
      try {
        (undefined as unknown as { name: () => void }).name();
      } catch (error) {
        return error;
      }
    })();
    expect(bug).toBeInstanceOf(TypeError);
    const result = await runThrowing(bug);
    expect(result.code).toBe(ExitCode.internal);
    expect(result.code).not.toBe(ExitCode.usage);
    expect(result.stderr).toMatch(/^error: internal error, a bug in haos-tasks \(exit 70\)/);
    expect(result.stderr).toContain(`TypeError: ${(bug as TypeError).message}`);
    expect(result.stderr).toMatch(stackLine);
    expect(result.stderr).toContain("main.test.ts");
  });

  it("a thrown non-Error is a bug too", async () => {
    const result = await runThrowing("a string");
    expect(result.code).toBe(ExitCode.internal);
    expect(result.stderr).toContain("a string");
  });

  it("a HintedError prints its message and fix, no stack, and exits with its code (2 by default)", async () => {
    const result = await runThrowing(new HintedError("the config is wrong", "fix the config"));
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: the config is wrong\n  fix: fix the config\n",
    });
    const forbidden = await runThrowing(
      new HintedError("may not list pods", "grant it", { exitCode: ExitCode.forbidden }),
    );
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).not.toMatch(stackLine);
  });

  it("a hint the message already holds is not printed twice", async () => {
    const result = await runThrowing(
      new HintedError("no tool; run `npm run bootstrap`", "run `npm run bootstrap`"),
    );
    expect(result.stderr).toBe("error: no tool; run `npm run bootstrap`\n");
  });

  it("HAOS_TASKS_DEBUG adds the stack of an expected error", async () => {
    const result = await runThrowing(new HintedError("bad", "fix"), { HAOS_TASKS_DEBUG: "1" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(stackLine);
  });

  it("an operating-system error (a file that cannot be read) is an I/O error: exit 2, no stack", async () => {
    const missing = (() => {
      try {
        readFileSync("/nonexistent/haos-tasks-test");
      } catch (error) {
        return error;
      }
    })();
    const result = await runThrowing(missing);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toMatch(
      /^error: ENOENT: no such file or directory, open '\/nonexistent\/haos-tasks-test'\n$/,
    );
  });
});
