/**
 * Exit codes every haos-tasks command uses (README.md). Neutral ground: the core says what
 * happened (a HintedError's exitCode, VerifyOutcome), the CLI and the Action map it here at their edges.
 */
export const ExitCode = {
  /** Clean / released / verified. */
  ok: 0,
  /** Findings (validate), a terminal rollout failure (verify), a failed step (release). */
  failure: 1,
  /** Bad usage, bad configuration, unreadable input. */
  usage: 2,
  /** verify: a phase or the overall deadline ran out. */
  timeout: 3,
  /** verify/release: the credentials lack a permission (the message names the rule). */
  forbidden: 4,
  /** verify: the API server (or GitHub) cannot be reached. */
  unreachable: 5,
  /**
   * A bug in haos-tasks: a throw that is no HintedError (a TypeError, a broken invariant). Its own
   * code, far from 0–5, so a script never reads a crash as the user's mistake (2) or a finding
   * (1); 70 is EX_SOFTWARE of BSD's sysexits.h ("internal software error"), clear of the shell's
   * 126/127 and 128+signal.
   */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * What each exit code means, in one line: the text `haos-tasks --help`, each command's --help and
 * README.md print (test/integration/cli-help.test.ts holds the README to it).
 */
export const exitCodeMeanings: Readonly<Record<ExitCodeValue, string>> = {
  0: "ok",
  1: "findings / failure",
  2: "usage, configuration or I/O error",
  3: "timeout",
  4: "missing permission (the message names the rule)",
  5: "API unreachable",
  70: "internal error (a bug: please report it with the stack)",
};

/** `0 ok, 1 findings / failure, …` for the codes given (all by default). */
export function exitCodesText(codes: readonly ExitCodeValue[] = Object.values(ExitCode)): string {
  return codes.map((c) => `${c} ${exitCodeMeanings[c]}`).join(", ");
}
