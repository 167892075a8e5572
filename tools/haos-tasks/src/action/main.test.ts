import { beforeEach, describe, expect, it, vi } from "vitest";
import { HintedError } from "../errors.ts";

// The Action's edge, with the command module and @actions/core stood in for by the test (seams
// the test owns): `diff` throws what the test puts here, the step's failure text is captured.
const state = vi.hoisted(() => ({ thrown: undefined as unknown, failed: [] as string[] }));
vi.mock("./diff.ts", () => ({
  runDiff: async () => {
    throw state.thrown;
  },
}));
vi.mock("@actions/core", () => ({
  setSecret: () => {},
  setOutput: () => {},
  info: () => {},
  setFailed: (message: string) => state.failed.push(message),
}));
const { run } = await import("./main.ts");

const runThrowing = async (error: unknown) => {
  state.thrown = error;
  await run({ INPUT_COMMAND: "diff", GITHUB_WORKSPACE: import.meta.dirname });
  return state.failed;
};

describe("how the Action fails on a throw", () => {
  beforeEach(() => {
    state.failed = [];
  });

  it("a bug (a TypeError) fails the step with its stack, to be reported", async () => {
    const bug = new TypeError("cannot read properties of undefined (reading 'sha')");
    const [failure] = await runThrowing(bug);
    expect(failure).toMatch(/^internal error, a bug in haos-tasks: please report it with this stack\n/);
    expect(failure).toContain("TypeError: cannot read properties of undefined (reading 'sha')");
    expect(failure).toMatch(/^\s+at /m);
  });

  it("a HintedError fails it with its message and fix, no stack", async () => {
    const [failure] = await runThrowing(new HintedError("unknown git ref 'x'", "fetch it first"));
    expect(failure).toBe("unknown git ref 'x'\n  fix: fetch it first");
  });
});
