import { type Command, ExitCode, helpOption } from "../command.ts";

export const schemasSyncCommand: Command = {
  path: ["schemas", "sync"],
  summary: "Fetch pinned upstream schemas (or read a mirror), verify sha256, convert for kubeconform",
  usage: "haos-tasks schemas sync [--mirror <dir>] [--from-cluster] [--format text|json]",
  options: {
    ...helpOption,
    mirror: {
      type: "string",
      valueName: "dir",
      description: "Read sources from a mirror directory (env HAOS_TASKS_SCHEMA_MIRROR).",
    },
    "from-cluster": { type: "boolean", description: "Convert the live cluster's CRDs instead." },
    format: { type: "string", valueName: "text|json", description: "Output format.", default: "text" },
  },
  async run(_args, io) {
    io.stderr("schemas sync: not implemented yet (issue #4)\n");
    return ExitCode.usage;
  },
};
