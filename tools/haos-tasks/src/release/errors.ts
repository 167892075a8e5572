import type { ExitCodeValue } from "../exit-codes.ts";
import { ExitCode } from "../exit-codes.ts";

/** What went wrong, as the exit code the CLI returns for it. */
export type ReleaseErrorKind = "usage" | "failure" | "forbidden" | "unreachable";

/** An expected release failure: a message saying what is wrong and a hint naming the fix. */
export class ReleaseError extends Error {
  readonly hint: string;
  readonly kind: ReleaseErrorKind;
  constructor(message: string, hint: string, kind: ReleaseErrorKind = "failure") {
    super(message);
    this.hint = hint;
    this.kind = kind;
  }
}

/** The CLI exit code for a release error kind. */
export function exitCodeFor(kind: ReleaseErrorKind): ExitCodeValue {
  return ExitCode[kind];
}
