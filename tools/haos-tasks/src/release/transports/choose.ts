import type { ReleaseConfig, TransportChoice } from "../config.ts";
import { ReleaseError } from "../errors.ts";
import { GitHubApi, githubTargetFromEnv, githubToken, missingGitHubAccess } from "../github-api.ts";
import { createGitTransport } from "./git.ts";
import { createGitHubTransport } from "./github.ts";
import type { ReleaseTransport } from "./transport.ts";

/**
 * Picks the transport: `auto` is github inside GitHub Actions with a token (GITHUB_ACTIONS=true,
 * GITHUB_TOKEN or GH_TOKEN), git everywhere else.
 */
export function chooseTransport(
  choice: TransportChoice,
  context: { root: string; config: ReleaseConfig; env: NodeJS.ProcessEnv; repository?: string },
): ReleaseTransport {
  const { env, config, root } = context;
  const repository = context.repository ?? config.repository ?? env.GITHUB_REPOSITORY;
  const target = githubTargetFromEnv(env, repository);
  const github = target ? new GitHubApi(target) : undefined;
  const useGitHub =
    choice === "github" || (choice === "auto" && env.GITHUB_ACTIONS === "true" && github !== undefined);
  if (!useGitHub) return createGitTransport({ root, config, github });
  if (!github) {
    const gap = missingGitHubAccess(githubToken(env) !== undefined, repository);
    throw new ReleaseError(
      `the github transport needs a token and a repository: ${gap?.message ?? "one is missing"}`,
      gap?.hint ?? "set GITHUB_TOKEN and GITHUB_REPOSITORY",
      "usage",
    );
  }
  return createGitHubTransport(root, github);
}
