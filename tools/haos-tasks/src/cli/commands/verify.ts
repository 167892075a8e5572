import { type Command, ExitCode, helpOption } from "../command.ts";

export const verifyCommand: Command = {
  path: ["verify"],
  summary: "Watch the cluster until Flux applied the commit and the HAOS VM is ready",
  usage: "haos-tasks verify [--app <dir>] [--revision <sha>] [--timeout <dur>] [--format text|json]",
  options: {
    ...helpOption,
    app: {
      type: "string",
      valueName: "dir",
      description: "The Flux app folder.",
      default: "apps/haos-enigma",
    },
    revision: { type: "string", valueName: "sha", description: "Commit to wait for (default: $GITHUB_SHA)." },
    timeout: { type: "string", valueName: "duration", description: "Overall deadline.", default: "30m" },
    format: { type: "string", valueName: "text|json", description: "Output format.", default: "text" },
  },
  async run(_args, io) {
    io.stderr("verify: not implemented yet (issue #6)\n");
    return ExitCode.usage;
  },
};
