import { describeError, HintedError, isSystemError } from "../errors.ts";
import { exitCodesText } from "../exit-codes.ts";
import {
  type Command,
  type CommandIO,
  closest,
  ExitCode,
  parseCommandArgs,
  renderHelp,
  wantsColour,
} from "./command.ts";

/**
 * Every command, by the words that call it. Its module (options, help, implementation) is loaded
 * only when it runs — `haos-tasks verify` must not wait for release's and validate's imports
 * before its first progress line. Help for everything loads them all.
 */
const registry: ReadonlyArray<{ path: readonly string[]; load: () => Promise<Command> }> = [
  { path: ["validate"], load: async () => (await import("./commands/validate.ts")).validateCommand },
  { path: ["schemas", "sync"], load: async () => (await import("./commands/schemas.ts")).schemasSyncCommand },
  { path: ["release", "plan"], load: async () => (await import("./commands/release.ts")).releasePlanCommand },
  {
    path: ["release", "apply"],
    load: async () => (await import("./commands/release.ts")).releaseApplyCommand,
  },
  { path: ["verify"], load: async () => (await import("./commands/verify.ts")).verifyCommand },
  { path: ["diff"], load: async () => (await import("./commands/diff.ts")).diffCommand },
];

/** Groups of sub-commands (`release plan|apply`, `schemas sync`) and what each group is for. */
const groups: Record<string, string> = {
  release: "Plan and publish releases of the components in .haos-tasks.yaml",
  schemas: "Manage the kubeconform schema catalog validate checks against",
};

const exitCodesLine = `exit codes: ${exitCodesText()}`;

function table(rows: ReadonlyArray<[string, string]>): string[] {
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return rows.map(([name, text]) => `  ${name.padEnd(width)}${text}`);
}

async function rootHelp(): Promise<string> {
  const commands = await Promise.all(registry.map((entry) => entry.load()));
  return [
    "haos-tasks — lint, validate, release and verify Flux apps on CozyStack",
    "",
    "usage: haos-tasks <command> [options]",
    "",
    "commands:",
    ...table(commands.map((c) => [c.path.join(" "), c.summary])),
    "",
    "examples:",
    "  haos-tasks validate apps/haos-enigma",
    "  haos-tasks diff --base origin/main",
    "  haos-tasks release plan",
    "  haos-tasks verify --revision HEAD --timeout 30m",
    "",
    "Run `haos-tasks help <command>` or `haos-tasks <command> --help` for its options and examples.",
    exitCodesLine,
    "",
  ].join("\n");
}

async function groupHelp(group: string): Promise<string> {
  const members = await Promise.all(registry.filter((e) => e.path[0] === group).map((e) => e.load()));
  return [
    `haos-tasks ${group} — ${groups[group] ?? ""}`,
    "",
    `usage: haos-tasks ${group} <${members.map((c) => c.path[1]).join("|")}> [options]`,
    "",
    "commands:",
    ...table(members.map((c) => [c.path.join(" "), c.summary])),
    "",
    "examples:",
    ...members.flatMap((c) => (c.examples ?? []).slice(0, 2).map((e) => `  ${e}`)),
    "",
    `Run \`haos-tasks ${group} <command> --help\` for its options.`,
    "",
  ].join("\n");
}

/** Finds the command whose path is the longest prefix of argv. */
function resolve(argv: readonly string[]): { entry: (typeof registry)[number]; rest: string[] } | undefined {
  let best: { entry: (typeof registry)[number]; rest: string[] } | undefined;
  for (const entry of registry) {
    const n = entry.path.length;
    if (entry.path.every((word, i) => argv[i] === word) && (!best || n > best.entry.path.length)) {
      best = { entry, rest: argv.slice(n) };
    }
  }
  return best;
}

/** `unknown command 'valdiate'; did you mean 'validate'?` — and the list to pick from. */
function unknownCommand(argv: readonly string[]): string {
  const [first = "", second] = argv;
  const inGroup = first in groups;
  const words = inGroup
    ? registry.filter((e) => e.path[0] === first).map((e) => e.path[1] ?? "")
    : [...new Set(registry.map((e) => e.path[0] ?? ""))];
  const typed = inGroup ? (second ?? "") : first;
  const guess = typed.startsWith("-") ? undefined : closest(typed, words);
  const shown = inGroup ? `${first} ${typed}` : typed;
  const suggestion = guess ? `; did you mean '${inGroup ? `${first} ${guess}` : guess}'?` : "";
  const known = registry
    .filter((e) => !inGroup || e.path[0] === first)
    .map((e) => e.path.join(" "))
    .join(", ");
  return `error: unknown command '${shown}'${suggestion}\ncommands: ${known}\nrun \`haos-tasks --help\` for usage\n`;
}

const isHelp = (word: string | undefined): boolean => word === "--help" || word === "-h";

const defaultIO = (): CommandIO => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  colour: wantsColour(process.env, Boolean(process.stdout.isTTY)),
  // The user's clock starts when they pressed enter, not once our modules are loaded.
  startedAt: Math.floor(performance.timeOrigin),
});

/** Help for `words` (a command, a group or nothing), or undefined when they name neither. */
async function helpFor(words: readonly string[]): Promise<string | undefined> {
  if (words.length === 0) return rootHelp();
  const found = resolve(words);
  if (found && found.rest.length === 0) return renderHelp(await found.entry.load());
  if (words.length === 1 && words[0] !== undefined && words[0] in groups) return groupHelp(words[0]);
  return undefined;
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  if (argv.length === 0 || isHelp(argv[0])) {
    io.stdout(await rootHelp());
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (argv[0] === "help") {
    const help = await helpFor(argv.slice(1));
    if (help === undefined) {
      io.stderr(unknownCommand(argv.slice(1)));
      return ExitCode.usage;
    }
    io.stdout(help);
    return ExitCode.ok;
  }
  if (argv[0] === "--version") {
    io.stdout(`${process.env.npm_package_version ?? "0.1.0"}\n`);
    return ExitCode.ok;
  }
  const found = resolve(argv);
  if (!found) {
    // `release`, `release --help`: the group's help (without a sub-command it is a usage error).
    if (argv[0] !== undefined && argv[0] in groups && (argv.length === 1 || isHelp(argv[1]))) {
      const help = await groupHelp(argv[0]);
      if (argv.length === 1) {
        io.stderr(help);
        return ExitCode.usage;
      }
      io.stdout(help);
      return ExitCode.ok;
    }
    io.stderr(unknownCommand(argv));
    return ExitCode.usage;
  }
  const { entry, rest } = found;
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(renderHelp(command));
    return ExitCode.ok;
  }
  try {
    const args = parseCommandArgs(command, rest);
    return await command.run(args, io);
  } catch (error) {
    return failed(error, io);
  }
}

/**
 * How a command that throws ends. A HintedError is an expected condition: its message, its fix
 * and its exit code (the stack only with HAOS_TASKS_DEBUG). An error of the operating system (a
 * file that cannot be read) is an I/O error, exit 2. Anything else is a bug in haos-tasks: its
 * stack and an exit code of its own (ExitCode.internal), never read as the user's mistake.
 */
function failed(error: unknown, io: CommandIO): number {
  if (error instanceof HintedError || isSystemError(error)) {
    io.stderr(`error: ${error instanceof HintedError ? describeError(error) : error.message}\n`);
    if (io.env.HAOS_TASKS_DEBUG) io.stderr(`${error.stack}\n`);
    return error instanceof HintedError ? error.exitCode : ExitCode.usage;
  }
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  io.stderr(
    `error: internal error, a bug in haos-tasks (exit ${ExitCode.internal}): please report it with this stack\n${stack}\n`,
  );
  return ExitCode.internal;
}
