import { HintedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

/**
 * Errors of the Kubernetes edge, each with its exit code and the fix: a 403 names the missing
 * RBAC rule (exit 4), a connection failure says the API is unreachable (exit 5).
 */

/** What a request asked for, in RBAC terms. */
export interface RequestRule {
  verb: "get" | "list" | "watch" | "patch";
  /** `plural.group`, or the plural alone for the core group. */
  resource: string;
  namespace?: string;
}

/** `list gitrepositories.source.toolkit.fluxcd.io in namespace flux-system`. */
export function formatRule(rule: RequestRule): string {
  return `${rule.verb} ${rule.resource}${rule.namespace ? ` in namespace ${rule.namespace}` : " (cluster-scoped)"}`;
}

export class KubeForbiddenError extends HintedError {
  readonly rule: RequestRule;
  readonly status: number;
  constructor(rule: RequestRule, status: number, serverMessage: string) {
    const missing = formatRule(rule);
    const who = /User "([^"]+)"/.exec(serverMessage)?.[1];
    super(
      status === 401
        ? `the API server rejected the credentials (401) on ${missing}`
        : `forbidden: ${who ?? "the verifier"} may not ${missing}`,
      status === 401
        ? "refresh the token or kubeconfig (--kubeconfig, $KUBECONFIG, in-cluster ServiceAccount)"
        : `grant '${missing}' to the runner's ServiceAccount (apps/verify-runner/rbac-verify-runner.yaml)`,
      { exitCode: ExitCode.forbidden },
    );
    this.rule = rule;
    this.status = status;
  }
}

export class KubeUnreachableError extends HintedError {
  readonly server: string;
  constructor(server: string, cause: string, override?: { message: string; hint: string }) {
    super(
      override?.message ?? `the API server ${server} is unreachable: ${cause}`,
      override?.hint ??
        'check the kubeconfig\'s server address and the network path from the runner (in a CozyStack tenant namespace the runner pod needs the label policy.cozystack.io/allow-to-apiserver: "true")',
      { exitCode: ExitCode.unreachable },
    );
    this.server = server;
  }
}

/** Any other non-2xx answer (404 of a missing CRD, 422 of a bad patch, 5xx). */
export class KubeStatusError extends HintedError {
  readonly status: number;
  readonly rule: RequestRule;
  constructor(rule: RequestRule, status: number, serverMessage: string) {
    super(
      `${formatRule(rule)}: HTTP ${status}${serverMessage ? `: ${serverMessage}` : ""}`,
      status === 404
        ? `the API for ${rule.resource} is not served: is its controller (CRD or aggregated API) installed?`
        : "see the API server's message above",
    );
    this.status = status;
    this.rule = rule;
  }
}

/**
 * Something answers at the server's address, but not as a Kubernetes API server does: an HTML page
 * (a proxy's login, a captive portal), JSON that is no Kubernetes object or list, a body over
 * the size limit, or no HTTP at all. No wait can fix it: the run ends at once, as unreachable.
 */
export class KubeNotKubernetesError extends KubeUnreachableError {
  readonly url: string;
  constructor(server: string, url: string, what: string) {
    super(server, what, {
      message: `${url} did not answer as a Kubernetes API server: ${what}`,
      hint: "check the kubeconfig's server address: a proxy, a captive portal or another service answers there",
    });
    this.url = url;
  }
}

/**
 * The server answers, but one API keeps failing with 5xx or 429 (an aggregated API whose backend
 * is down, a watch cache that never initializes): as hopeless as an unreachable server.
 */
export class KubeApiFailingError extends KubeUnreachableError {
  readonly rule: RequestRule;
  readonly status: number;
  constructor(server: string, cause: KubeStatusError, forMs: number) {
    super(server, cause.message, {
      message: `the API for ${cause.rule.resource} keeps failing (for ${Math.round(forMs / 1000)}s): ${cause.message}`,
      hint: `the API server answers, but the service behind ${cause.rule.resource} does not: check \`kubectl get apiservices\` (aggregated APIs) and the pods of the controller that serves it`,
    });
    this.rule = cause.rule;
    this.status = cause.status;
  }
}

/** The first list of every watched kind did not complete before the overall deadline. */
export class KubeStartTimeoutError extends HintedError {
  constructor(waitedMs: number, failing: readonly string[]) {
    super(
      `the cluster could not be listed within the overall deadline (${Math.round(waitedMs / 1000)}s)${failing.length ? `; still failing: ${failing.join("; ")}` : ""}`,
      "check the API server and the services behind the failing APIs, or raise --timeout",
      { exitCode: ExitCode.timeout },
    );
  }
}

const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** True for errors that mean "could not talk to the server" (retry, then report unreachable). */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === "string" && connectionCodes.has(e.code)) return true;
    if (e.name === "TimeoutError" || e.name === "AbortError") return true;
    if (typeof e.message === "string" && /socket hang up|other side closed|fetch failed/.test(e.message))
      return true;
    current = e.cause;
  }
  return false;
}

/** A one-line reason for a connection error (`connect ECONNREFUSED 127.0.0.1:6443`). */
export function connectionReason(error: unknown): string {
  const e = error as { message?: unknown; cause?: { message?: unknown } };
  const cause = typeof e.cause?.message === "string" ? e.cause.message : undefined;
  const message = typeof e.message === "string" ? e.message : String(error);
  return cause && message === "fetch failed" ? cause : message;
}
