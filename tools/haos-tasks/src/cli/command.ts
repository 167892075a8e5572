import { type ParseArgsConfig, parseArgs } from "node:util";
import { closest } from "../closest.ts";
import { escapeControlCharacters } from "../control-characters.ts";
import { HintedError } from "../errors.ts";
import { ExitCode, exitCodesText } from "../exit-codes.ts";

export { closest, editDistance } from "../closest.ts";

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
  /** Extra help text after the options (what it does, exit codes). */
  details?: string;
  /** Command lines shown under "examples:" in --help, each with an optional `# comment`. */
  examples?: readonly string[];
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
  /** stderr is a terminal: validate and diff draw a progress line there while charts are fetched. */
  stderrIsTTY?: boolean;
  /** Colour in human output: NO_COLOR / FORCE_COLOR, else a terminal (see wantsColour). */
  colour?: boolean;
  /** Epoch ms the process started (deadlines such as verify's --timeout count from here). */
  startedAt?: number;
}

/** A bad command line; the message says what is wrong and how to get help (so no separate hint). */
export class UsageError extends HintedError {
  constructor(message: string) {
    super(message, "");
  }
}

/**
 * Whether to colour human output, per https://no-color.org and the FORCE_COLOR convention:
 * FORCE_COLOR (other than 0/false) forces it, NO_COLOR (any non-empty value) turns it off, else
 * only on a terminal.
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "0" && force !== "false") return true;
  if (env.NO_COLOR) return false;
  if (force === "0" || force === "false") return false;
  return isTTY;
}

/** The colour decision of an IO (tests that pass none get the terminal's answer). */
export function colourOf(io: CommandIO): boolean {
  return io.colour ?? wantsColour(io.env, io.isTTY);
}

/**
 * Parses argv for a command, in our words: an unknown option names the command and the closest
 * known option, a missing value names what the option takes, a stray argument is called one.
 */
export function parseCommandArgs(command: Command, argv: string[]): CommandArgs {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    const { description: _d, valueName: _v, ...rest } = spec;
    options[name] = rest;
  }
  const name = `haos-tasks ${command.path.join(" ")}`;
  const usage = `run \`${name} --help\` for its options and examples`;
  // Non-strict parsing hands back tokens; the checks below are strict and say what is wrong.
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === "option") {
      const spec = command.options[token.name];
      const typed = token.rawName;
      if (!spec) {
        const known = Object.keys(command.options);
        const guess = closest(token.name, known);
        throw new UsageError(
          `${name} has no option ${typed}${guess ? `; did you mean --${guess}?` : ""}\n${usage}`,
        );
      }
      const swallowed = !token.inlineValue && token.value?.startsWith("-") && token.value.length > 1;
      if (spec.type === "string" && (token.value === undefined || swallowed)) {
        throw new UsageError(`${typed} needs a value: ${typed} <${spec.valueName ?? "value"}>\n${usage}`);
      }
      if (spec.type === "boolean" && token.inlineValue) {
        throw new UsageError(
          `${typed} is a switch and takes no value (got '${typed}=${token.value}')\n${usage}`,
        );
      }
    } else if (token.kind === "positional" && !command.allowPositionals) {
      throw new UsageError(`${name} takes no argument '${token.value}' (options start with --)\n${usage}`);
    }
  }
  return { values: values as CommandArgs["values"], positionals };
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
  if (command.examples?.length) lines.push("", "examples:", ...command.examples.map((e) => `  ${e}`));
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

/** What every command's --help says of the code any command may end with (a bug): `70 internal error (…)`. */
export const internalExitText = exitCodesText([ExitCode.internal]);

/**
 * Text from outside (commit subjects, server messages) made safe for a terminal: control
 * characters other than newline and tab are shown as `\x1b`-style escapes instead of being obeyed.
 */
export const terminalSafe = escapeControlCharacters;

/** The same io, with everything it prints passed through terminalSafe (for output without colour). */
export function terminalSafeIO(io: CommandIO): CommandIO {
  return { ...io, stdout: (t) => io.stdout(terminalSafe(t)), stderr: (t) => io.stderr(terminalSafe(t)) };
}
