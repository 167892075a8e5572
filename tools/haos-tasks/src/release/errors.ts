import { HintedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

/** What went wrong, named as the exit code it ends the run with (ExitCode's keys). */
export type ReleaseErrorKind = "usage" | "failure" | "forbidden" | "unreachable";

/** An expected release failure: a message saying what is wrong and a hint naming the fix. */
export class ReleaseError extends HintedError {
  constructor(message: string, hint: string, kind: ReleaseErrorKind = "failure") {
    super(message, hint, { exitCode: ExitCode[kind] });
  }
}
