/** The one function the release differential test calls; the package ships no types. */
declare module "@semantic-release/commit-analyzer" {
  export function analyzeCommits(
    pluginConfig: { preset?: string; releaseRules?: object[] },
    context: {
      commits: { hash: string; message: string }[];
      logger: { log(...args: unknown[]): void; error(...args: unknown[]): void };
      cwd: string;
    },
  ): Promise<"major" | "minor" | "patch" | null>;
}
