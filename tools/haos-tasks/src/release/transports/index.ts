/**
 * The transports, one entry each: the catalog's description (catalog.ts) and the factory. A new
 * transport is a catalog entry and its factory here; chooseTransport, the checks and the help follow.
 */
import type { ReleaseConfig } from "../config.ts";
import { ReleaseError } from "../errors.ts";
import { GitHubApi, githubTargetFromEnv, githubToken, missingGitHubAccess } from "../github-api.ts";
import {
  autoTransport,
  type TransportChoice,
  type TransportInfo,
  type TransportName,
  transportCatalog,
} from "./catalog.ts";
import { createGitTransport } from "./git.ts";
import { createGitHubTransport } from "./github.ts";
import type { ReleaseTransport } from "./transport.ts";

/** What a factory gets: the checkout, the release configuration and the GitHub client, if any. */
export interface TransportContext {
  root: string;
  config: ReleaseConfig;
  /** The GitHub API for the repository; undefined without a token or a repository. */
  github: GitHubApi | undefined;
  /** Where the token comes from (for the message when one is needed and missing). */
  env: NodeJS.ProcessEnv;
  repository: string | undefined;
}

export interface TransportEntry extends TransportInfo {
  /** Creates the transport; refuses (usage) when the context lacks what it needs. */
  create(context: TransportContext): ReleaseTransport;
}

export const transports: { readonly [name in TransportName]: TransportEntry } = {
  git: {
    ...transportCatalog.git,
    create: ({ root, config, github }) => createGitTransport({ root, config, github }),
  },
  github: {
    ...transportCatalog.github,
    create: ({ root, github, env, repository }) => {
      if (!github) {
        const gap = missingGitHubAccess(githubToken(env) !== undefined, repository);
        throw new ReleaseError(
          `the github transport needs a token and a repository: ${gap?.message ?? "one is missing"}`,
          gap?.hint ?? "set GITHUB_TOKEN and GITHUB_REPOSITORY",
          "usage",
        );
      }
      return createGitHubTransport(root, github);
    },
  },
};

/**
 * Creates the transport `choice` names; `auto` is the first whose catalog condition holds (github
 * inside GitHub Actions with a token), else the fallback (git).
 */
export function chooseTransport(
  choice: TransportChoice,
  context: { root: string; config: ReleaseConfig; env: NodeJS.ProcessEnv; repository?: string },
): ReleaseTransport {
  const { env, config, root } = context;
  const repository = context.repository ?? config.repository ?? env.GITHUB_REPOSITORY;
  const target = githubTargetFromEnv(env, repository);
  const github = target ? new GitHubApi(target) : undefined;
  const name = choice === "auto" ? autoTransport(env, github !== undefined) : choice;
  return transports[name].create({ root, config, github, env, repository });
}
