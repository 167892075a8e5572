import { type ParseArgsConfig, parseArgs } from "node:util";
import { ExitCode } from "./exit-codes.ts";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & {
  description: string;
  valueName?: string;
};

/** One CLI command (or sub-command): its options, its help text and what it runs. */
export interface Command {
  /** Words after `haos-tasks`, e.g. `["release", "plan"]`. */
  path: string[];
  summary: string;
  usage: string;
  /** Extra help text after the options (examples, exit codes). */
  details?: string;
  options: Record<string, OptionSpec>;
  allowPositionals?: boolean;
  run(args: CommandArgs, io: CommandIO): Promise<number>;
}

export interface CommandArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Where a command writes; tests pass their own. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  isTTY: boolean;
  /** Epoch ms the process started (deadlines such as verify's --timeout count from here). */
  startedAt?: number;
}

export class UsageError extends Error {}

/** Parses argv for a command; unknown flags become a UsageError naming the flag and `--help`. */
export function parseCommandArgs(command: Command, argv: string[]): CommandArgs {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    const { description: _d, valueName: _v, ...rest } = spec;
    options[name] = rest;
  }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
    return { values: values as CommandArgs["values"], positionals };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${reason}\nrun \`haos-tasks ${command.path.join(" ")} --help\` for usage`);
  }
}

/** Renders `--help` for a command. */
export function renderHelp(command: Command): string {
  const lines = [
    `haos-tasks ${command.path.join(" ")} — ${command.summary}`,
    "",
    `usage: ${command.usage}`,
    "",
  ];
  const entries = Object.entries(command.options);
  if (entries.length > 0) {
    lines.push("options:");
    const labels = entries.map(([name, spec]) => {
      const short = spec.short ? `-${spec.short}, ` : "    ";
      const value = spec.type === "string" ? ` <${spec.valueName ?? "value"}>` : "";
      return `  ${short}--${name}${value}`;
    });
    const width = Math.max(...labels.map((l) => l.length)) + 2;
    entries.forEach(([, spec], i) => {
      const label = labels[i] ?? "";
      const dflt = spec.default !== undefined ? ` (default: ${String(spec.default)})` : "";
      lines.push(`${label.padEnd(width)}${spec.description}${dflt}`);
    });
  }
  if (command.details) lines.push("", command.details.trimEnd());
  return `${lines.join("\n")}\n`;
}

/** Reads a `--format` value and checks it against the formats the command supports. */
export function formatOption<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--format must be one of ${allowed.join(", ")} (got '${String(value)}')`);
}

export const helpOption: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "Show this help." },
};

export { ExitCode };
