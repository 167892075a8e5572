import {
  type Command,
  type CommandIO,
  ExitCode,
  parseCommandArgs,
  renderHelp,
  UsageError,
} from "./command.ts";
import { diffCommand } from "./commands/diff.ts";
import { releaseApplyCommand, releasePlanCommand } from "./commands/release.ts";
import { schemasSyncCommand } from "./commands/schemas.ts";
import { validateCommand } from "./commands/validate.ts";
import { verifyCommand } from "./commands/verify.ts";

export const commands: Command[] = [
  validateCommand,
  schemasSyncCommand,
  releasePlanCommand,
  releaseApplyCommand,
  verifyCommand,
  diffCommand,
];

function rootHelp(): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length)) + 2;
  return [
    "haos-tasks — lint, validate, release and verify Flux apps on CozyStack",
    "",
    "usage: haos-tasks <command> [options]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.path.join(" ").padEnd(width)}${c.summary}`),
    "",
    "Run `haos-tasks <command> --help` for a command's options.",
    "exit codes: 0 ok, 1 findings/failure, 2 usage or I/O, 3 timeout, 4 forbidden, 5 unreachable",
    "",
  ].join("\n");
}

/** Finds the command whose path is the longest prefix of argv. */
function resolve(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const n = command.path.length;
    if (command.path.every((word, i) => argv[i] === word) && (!best || n > best.command.path.length)) {
      best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}

const defaultIO = (): CommandIO => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  // The user's clock starts when they pressed enter, not once our modules are loaded.
  startedAt: performance.timeOrigin,
});

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.stdout(rootHelp());
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (argv[0] === "--version") {
    io.stdout(`${process.env.npm_package_version ?? "0.1.0"}\n`);
    return ExitCode.ok;
  }
  const found = resolve(argv);
  if (!found) {
    const group = commands.filter((c) => c.path[0] === argv[0]);
    const known = group.length > 0 ? group : commands;
    io.stderr(
      `error: unknown command '${argv.join(" ")}'\n` +
        `known: ${known.map((c) => c.path.join(" ")).join(", ")}\nrun \`haos-tasks --help\` for usage\n`,
    );
    return ExitCode.usage;
  }
  const { command, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(renderHelp(command));
    return ExitCode.ok;
  }
  try {
    const args = parseCommandArgs(command, rest);
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n`);
      return ExitCode.usage;
    }
    const hint = (error as { hint?: unknown }).hint;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(
      `error: ${message}\n${typeof hint === "string" && !message.includes(hint) ? `  fix: ${hint}\n` : ""}`,
    );
    if (io.env.HAOS_TASKS_DEBUG && error instanceof Error) io.stderr(`${error.stack}\n`);
    return ExitCode.usage;
  }
}
