import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import schema from "../../config/haos-tasks.schema.json" with { type: "json" };
import { parseConfig } from "../../config/load.ts";
import { autoTransport, transportChoices, transportHelp, transportNames } from "./catalog.ts";
import { transports } from "./index.ts";

// Transports are one record keyed by name: the choice, its checks, `auto` and the help follow it.
describe("the transport catalog", () => {
  it("auto picks github inside Actions when GitHub is reachable, git everywhere else", () => {
    expect(autoTransport({ GITHUB_ACTIONS: "true" }, true)).toBe("github");
    expect(autoTransport({ GITHUB_ACTIONS: "true" }, false)).toBe("git");
    expect(autoTransport({}, true)).toBe("git");
    expect(autoTransport({ GITHUB_ACTIONS: "false" }, true)).toBe("git");
  });

  it("has a factory for every name, and the choices are auto and the names", () => {
    expect(Object.keys(transports)).toEqual(transportNames);
    expect(transportChoices).toEqual(["auto", "git", "github"]);
  });

  it("release.transport takes every choice and names them all when it refuses one", () => {
    for (const choice of transportChoices)
      expect(parseConfig(`release:\n  transport: ${choice}\n`).release.transport).toBe(choice);
    expect(() => parseConfig("release:\n  transport: ftp\n")).toThrow(
      "release.transport must be one of auto, git, github (got 'ftp')",
    );
  });

  it("the configuration schema (the editor's too) offers exactly the catalog's choices", () => {
    expect(schema.properties.release.properties.transport.enum).toEqual(transportChoices);
  });

  it("the help describes each transport and what auto picks", () => {
    expect(transportHelp()).toBe(
      "Transport: git (local commit, annotated tags, push) or github (commit through the API, so it is verified; tags through the refs API).\n" +
        "auto picks github inside Actions (GITHUB_ACTIONS=true and GITHUB_TOKEN set), else git.",
    );
  });

  it("release apply --help and --transport name every choice", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      env: {},
      cwd: tmpdir(),
      isTTY: false,
    };
    expect(await main(["release", "apply", "--help"], io)).toBe(0);
    expect(out.join("")).toContain("[--transport auto|git|github]");
    expect(out.join("")).toContain(transportHelp());
    expect(await main(["release", "apply", "--transport", "ftp"], io)).toBe(2);
    expect(err.join("")).toContain("--transport must be auto, git or github (got 'ftp')");
  });
});
