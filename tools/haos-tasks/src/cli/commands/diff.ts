import { type Command, ExitCode, helpOption } from "../command.ts";

export const diffCommand: Command = {
  path: ["diff"],
  summary: "Render each changed Flux app at base and head and diff the resources (Markdown)",
  usage: "haos-tasks diff --base <ref> [--head <ref>] [--format markdown|json]",
  options: {
    ...helpOption,
    base: { type: "string", valueName: "ref", description: "Base git ref." },
    head: { type: "string", valueName: "ref", description: "Head git ref.", default: "HEAD" },
    format: {
      type: "string",
      valueName: "markdown|json",
      description: "Output format.",
      default: "markdown",
    },
  },
  async run(_args, io) {
    io.stderr("diff: not implemented yet (issue #7)\n");
    return ExitCode.usage;
  },
};
