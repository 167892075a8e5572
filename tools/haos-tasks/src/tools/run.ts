import { execFile } from "node:child_process";
import { ownChild } from "./children.ts";

/** What a finished tool run printed, and how it ended. */
export interface ToolRun {
  stdout: string;
  stderr: string;
  /** The exit status; undefined when the tool did not start or was killed by a signal. */
  exitCode: number | undefined;
  /**
   * Why it did not start (`ENOENT`, `EACCES`), or the signal that ended it; `killed` when this
   * run killed it (its timeout, or output over the bound).
   */
  failure?: { code?: string; signal?: string; killed?: boolean; message: string };
}

/**
 * Runs a tool to its end and resolves whatever its exit status (node:child_process's execFile,
 * output bounded at 1 GiB); git runs through it too (git/runner.ts). validate used execa for this; loading execa's bundled modules and the
 * builtins it pulls in cost a cold `validate apps/haos-enigma` about 25 ms of a 0.5 s run, for two
 * calls that need none of its features.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
  /** Called once the child exists (the caller may do other work while it runs). */
  onStart?: () => void,
): Promise<ToolRun> {
  const { input, timeoutMs, ...spawnOptions } = options;
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        ...spawnOptions,
        encoding: "utf8",
        maxBuffer: 1024 * 1024 * 1024,
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr, exitCode: 0 });
        const code = (error as { code?: unknown }).code;
        if (typeof code === "number") return resolve({ stdout, stderr, exitCode: code });
        resolve({
          stdout,
          stderr,
          exitCode: undefined,
          failure: {
            ...(typeof code === "string" ? { code } : {}),
            ...(error.signal ? { signal: error.signal } : {}),
            ...(error.killed ? { killed: true } : {}),
            message: error.message,
          },
        });
      },
    );
    ownChild(child);
    if (input !== undefined) child.stdin?.end(input);
    onStart?.();
  });
}
