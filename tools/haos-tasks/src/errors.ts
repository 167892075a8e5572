import { ExitCode, type ExitCodeValue } from "./exit-codes.ts";

export interface HintedErrorOptions {
  /** The exit code the CLI ends with (default: ExitCode.usage, a usage, configuration or I/O error). */
  exitCode?: ExitCodeValue;
  /** The error this one explains (a git failure, a parse error). */
  cause?: unknown;
}

/**
 * An expected condition — bad usage, a bad file, a missing tool, a refused request — said in our
 * words: a message naming what is wrong, a hint naming the fix ("" when the message names it
 * already) and the exit code the CLI ends with. Every error haos-tasks throws on purpose is one;
 * anything else that reaches the CLI or the Action is a bug and is reported with its stack
 * (ExitCode.internal).
 */
export class HintedError extends Error {
  readonly hint: string;
  readonly exitCode: ExitCodeValue;
  constructor(message: string, hint: string, options: HintedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = hint;
    this.exitCode = options.exitCode ?? ExitCode.usage;
  }
}

/**
 * An operating-system error of Node's own (ENOENT, EACCES, EISDIR … with the syscall that failed):
 * a file or folder the user named that cannot be read or written, an I/O error (exit 2) rather
 * than a bug, whatever module let it through.
 */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === "string" &&
    typeof (error as NodeJS.ErrnoException).syscall === "string"
  );
}

/** `message` and, unless the message already says it, `  fix: hint` under it. */
export function describeError(error: HintedError): string {
  const hint = error.hint && !error.message.includes(error.hint) ? `\n  fix: ${error.hint}` : "";
  return `${error.message}${hint}`;
}
