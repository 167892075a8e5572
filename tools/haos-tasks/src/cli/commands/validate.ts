import { type Command, ExitCode, formatOption, helpOption } from "../command.ts";

export const validateCommand: Command = {
  path: ["validate"],
  summary: "Lint, build and schema-check Flux apps; every finding at file:line:col",
  usage: "haos-tasks validate [paths…] [--format text|json|sarif|github] [--strict] [--only lint]",
  allowPositionals: true,
  options: {
    ...helpOption,
    format: {
      type: "string",
      valueName: "text|json|sarif|github",
      description: "Output format.",
      default: "text",
    },
    strict: { type: "boolean", description: "Warnings fail too." },
    only: { type: "string", valueName: "lint", description: "Run only one stage." },
  },
  async run(args, io) {
    formatOption(args.values.format, ["text", "json", "sarif", "github"] as const, "text");
    io.stderr("validate: not implemented yet (issue #4)\n");
    return ExitCode.usage;
  },
};
