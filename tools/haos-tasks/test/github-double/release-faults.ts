/**
 * Fault injection for release apply, owned by the tests: a transport wrapped so that the run dies
 * right after (or before) one step, as a killed job or a lost runner would leave it. The product
 * knows nothing of it: applyRelease gets the wrapped transport as it gets any transport.
 * (Faults in GitHub's answers go through the double: GitHubDouble.inject / failNth.)
 */
import type { ApiResponse, GitHubApi } from "../../src/release/github-api.ts";
import type { ReleaseTransport } from "../../src/release/transports/transport.ts";

export type FaultPoint =
  | "after-write"
  | "after-commit"
  | "after-tag"
  | "after-push"
  | "after-draft"
  | "before-publish";

export const faultPoints: readonly FaultPoint[] = [
  "after-write",
  "after-commit",
  "after-tag",
  "after-push",
  "after-draft",
  "before-publish",
];

/** The run stopped where the test said. */
export class InjectedFault extends Error {}

const die = (point: FaultPoint): never => {
  throw new InjectedFault(`injected fault ${point}`);
};

/**
 * `transport`, failing at `point`: after its step succeeded (the files written, the commit made,
 * the tags created, the push done, the draft release created) or before the draft is published.
 */
export function withFault(transport: ReleaseTransport, point: FaultPoint): ReleaseTransport {
  const after =
    <A extends unknown[], R>(at: FaultPoint, step: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const value = await step(...args);
      if (point === at) die(at);
      return value;
    };
  return {
    name: transport.name,
    github: transport.github && withReleaseFault(transport.github, point),
    preflight: (plan) => transport.preflight(plan),
    writeFiles: after("after-write", (plan) => transport.writeFiles(plan)),
    commit: after("after-commit", (plan) => transport.commit(plan)),
    tag: after("after-tag", (plan, sha) => transport.tag(plan, sha)),
    push: after("after-push", (plan, sha) => transport.push(plan, sha)),
  };
}

/** The GitHub client, dying after it created the draft release or before it publishes it. */
function withReleaseFault(github: GitHubApi, point: FaultPoint): GitHubApi {
  async function request<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const publishing = method === "PATCH" && /^\/releases\/\d+$/.test(path);
    if (point === "before-publish" && publishing) die(point);
    const response = await github.request<T>(method, path, body);
    if (point === "after-draft" && method === "POST" && path === "/releases" && response.status === 201)
      die(point);
    return response;
  }
  // releasesForTag and checkAccess call this.request: the prototype's, through the override.
  return Object.assign(Object.create(github) as GitHubApi, { request });
}
