import { type Command, ExitCode, helpOption } from "../command.ts";

const common = {
  ...helpOption,
  component: { type: "string", valueName: "name", description: "Component to release (default: all)." },
  format: { type: "string", valueName: "text|json", description: "Output format.", default: "text" },
  prerelease: { type: "string", valueName: "id", description: "Prerelease identifier, e.g. rc." },
} as const;

export const releasePlanCommand: Command = {
  path: ["release", "plan"],
  summary: "Show what a release would do: commits, bump, next version, notes, file changes (pure)",
  usage: "haos-tasks release plan [--component <name>] [--format text|json]",
  options: { ...common },
  async run(_args, io) {
    io.stderr("release plan: not implemented yet (issue #5)\n");
    return ExitCode.usage;
  },
};

export const releaseApplyCommand: Command = {
  path: ["release", "apply"],
  summary: "Execute the release plan: version.txt, CHANGELOG.md, commit, tag, push, GitHub release",
  usage: "haos-tasks release apply [--component <name>] [--dry-run]",
  options: { ...common, "dry-run": { type: "boolean", description: "Print the plan, change nothing." } },
  async run(_args, io) {
    io.stderr("release apply: not implemented yet (issue #5)\n");
    return ExitCode.usage;
  },
};
