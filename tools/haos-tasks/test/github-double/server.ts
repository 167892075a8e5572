/**
 * A local GitHub API double (node:http on 127.0.0.1) for release and sticky-comment tests: the
 * git data API on a real bare repository, refs with compare-and-swap semantics (ref creation is a
 * real lock), releases in memory (drafts, publish, immutable tags, make_latest) and issue comments
 * in memory (list, create, update: the sticky diff comment). Every request and response
 * is validated against GitHub's OpenAPI description; violations are collected in `violations`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenApiContract, type Operation } from "./contract.ts";
import { gitBare, readCommit, writeTree } from "./git-store.ts";

const templates = [
  "/repos/{owner}/{repo}",
  "/repos/{owner}/{repo}/git/refs",
  "/repos/{owner}/{repo}/git/ref/{ref}",
  "/repos/{owner}/{repo}/git/refs/{ref}",
  "/repos/{owner}/{repo}/git/commits",
  "/repos/{owner}/{repo}/git/commits/{commit_sha}",
  "/repos/{owner}/{repo}/git/trees",
  "/repos/{owner}/{repo}/git/blobs",
  "/repos/{owner}/{repo}/git/tags/{tag_sha}",
  "/repos/{owner}/{repo}/releases",
  "/repos/{owner}/{repo}/releases/{release_id}",
  "/repos/{owner}/{repo}/releases/tags/{tag}",
  "/repos/{owner}/{repo}/commits/{ref}",
  "/repos/{owner}/{repo}/issues/{issue_number}/comments",
  "/repos/{owner}/{repo}/issues/comments/{comment_id}",
];

let sharedContract: OpenApiContract | undefined;

export interface StoredRelease {
  id: number;
  tag_name: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  target_commitish: string;
  created_at: string;
  published_at: string | null;
}

/** A pull request's (issue's) comment, in memory. */
export interface StoredComment {
  id: number;
  issue_number: number;
  body: string;
  /** Who wrote it: the token's bot (the double's writes) or a person (seeded by a test). */
  author: { login: string; type: "Bot" | "User" };
  created_at: string;
  updated_at: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId?: string;
  status: number;
}

export interface Fault {
  method: string;
  path: RegExp;
  /**
   * The answer: an HTTP status with GitHub's basic-error body (any endpoint can answer it during
   * an outage or behind a proxy, so it need not be documented for the operation), or "refused"
   * to drop the connection without an answer, as a host that is down does.
   */
  status: number | "refused";
  message?: string;
  times?: number;
}

export interface GitHubDouble {
  url: string;
  repository: string;
  token: string;
  releases: StoredRelease[];
  /** Issue and pull request comments (the double's writes are by github-actions[bot]). */
  comments: StoredComment[];
  requests: RecordedRequest[];
  violations: string[];
  /** Commits created through the API without a custom author: GitHub signs them (verified). */
  verified: Set<string>;
  latestReleaseId?: number;
  /** "read" makes every write answer 403, as a token without `contents: write`. */
  permission: "write" | "read";
  /**
   * What GitHub tells about the token: "installation" (GITHUB_TOKEN: no `permissions` in the
   * repository, no scopes header), "user" (`permissions` in GET /repos/{owner}/{repo}) or
   * "classic" (an `X-OAuth-Scopes` header: `repo`, or none with read permission).
   */
  tokenKind: "installation" | "user" | "classic";
  inject(fault: Fault): void;
  /** Answers the `nth` request from now (1 = the next one), whatever it is, with `status`. */
  failNth(nth: number, status: Fault["status"]): void;
  close(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const docs = "https://docs.github.com/rest";

function user(api: string, login: string, type: "Bot" | "User" = "Bot"): Record<string, unknown> {
  const u = `${api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id: 41898282,
    node_id: "MDQ6VXNlcjQxODk4Mjgy",
    avatar_url: "https://avatars.githubusercontent.com/in/15368?v=4",
    gravatar_id: "",
    url: u,
    html_url: `https://github.com/apps/${login.replace(/\[bot\]$/, "")}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type,
    site_admin: false,
  };
}

/** Starts the double for `repository` (owner/name) over the bare repository `bare`. */
export async function startGitHubDouble(options: {
  bare: string;
  repository?: string;
  token?: string;
}): Promise<GitHubDouble> {
  sharedContract ??= new OpenApiContract(templates);
  const contract = sharedContract;
  const { bare } = options;
  const repository = options.repository ?? "acme/home";
  const token = options.token ?? "test-token";
  const faults: Fault[] = [];
  let countdown: { left: number; status: Fault["status"] } | undefined;
  let nextId = 1000;
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const repoApi = `${api}/repos/${repository}`;
  const html = `https://github.com/${repository}`;

  const double: GitHubDouble = {
    url: api,
    repository,
    token,
    releases: [],
    comments: [],
    requests: [],
    violations: [],
    verified: new Set(),
    permission: "write",
    tokenKind: "installation",
    inject: (fault) => faults.push({ times: 1, ...fault }),
    failNth: (nth, status) => {
      countdown = { left: nth, status };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const releaseJson = (r: StoredRelease) => ({
    url: `${repoApi}/releases/${r.id}`,
    html_url: `${html}/releases/tag/${r.tag_name}`,
    assets_url: `${repoApi}/releases/${r.id}/assets`,
    upload_url: `${repoApi}/releases/${r.id}/assets{?name,label}`,
    tarball_url: `${repoApi}/tarball/${r.tag_name}`,
    zipball_url: `${repoApi}/zipball/${r.tag_name}`,
    id: r.id,
    node_id: `RE_${r.id}`,
    tag_name: r.tag_name,
    target_commitish: r.target_commitish,
    name: r.name,
    body: r.body,
    draft: r.draft,
    prerelease: r.prerelease,
    immutable: !r.draft,
    created_at: r.created_at,
    published_at: r.published_at,
    updated_at: r.published_at ?? r.created_at,
    author: user(api, "github-actions[bot]"),
    assets: [],
  });
  const verification = (sha: string) =>
    double.verified.has(sha)
      ? {
          verified: true,
          reason: "valid",
          signature: "-----BEGIN PGP SIGNATURE-----",
          payload: "tree",
          verified_at: now(),
        }
      : { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null };
  const gitCommitJson = async (sha: string) => {
    const c = await readCommit(bare, sha);
    if (!c) return undefined;
    return {
      sha,
      node_id: `C_${sha}`,
      url: `${repoApi}/git/commits/${sha}`,
      html_url: `${html}/commit/${sha}`,
      author: c.author,
      committer: c.committer,
      message: c.message.replace(/\n$/, ""),
      tree: { sha: c.tree, url: `${repoApi}/git/trees/${c.tree}` },
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${repoApi}/git/commits/${p}`,
        html_url: `${html}/commit/${p}`,
      })),
      verification: verification(sha),
    };
  };
  const refJson = async (ref: string) => {
    const sha = await gitBare(bare, ["rev-parse", "--verify", "--quiet", ref]);
    if (sha.code !== 0) return undefined;
    const type = (await gitBare(bare, ["cat-file", "-t", sha.stdout.trim()])).stdout.trim();
    const object = { type, sha: sha.stdout.trim(), url: `${repoApi}/git/${type}s/${sha.stdout.trim()}` };
    return { ref, node_id: `REF_${ref}`, url: `${repoApi}/git/${ref}`, object };
  };
  const notFound = { status: 404, body: { message: "Not Found", documentation_url: docs, status: "404" } };
  const invalid = (message: string, code = "custom") => ({
    status: 422,
    body: { message, documentation_url: docs, errors: [{ resource: "Release", code, field: "tag_name" }] },
  });

  const commentJson = (c: StoredComment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${repoApi}/issues/comments/${c.id}`,
    html_url: `${html}/pull/${c.issue_number}#issuecomment-${c.id}`,
    issue_url: `${repoApi}/issues/${c.issue_number}`,
    body: c.body,
    user: user(api, c.author.login, c.author.type),
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: c.author.type === "Bot" ? "NONE" : "MEMBER",
  });
  type Result = { status: number; body?: unknown };
  async function handle(
    op: Operation,
    body: Record<string, unknown>,
    query: URLSearchParams,
  ): Promise<Result> {
    const p = op.params;
    switch (op.operationId) {
      case "repos/get": {
        // GitHub's own example of a full repository, renamed to this one; `permissions` only for
        // user tokens, as GitHub sends it.
        const {
          permissions: _p,
          source: _s,
          parent: _pa,
          ...example
        } = contract.example("full-repository-default-response") as Record<string, unknown>;
        const [owner = "", name = ""] = repository.split("/");
        const write = double.permission === "write";
        return {
          status: 200,
          body: {
            ...example,
            name,
            full_name: repository,
            owner: user(api, owner),
            private: true,
            archived: false,
            fork: false,
            // GitHub's example omits this required (nullable) field.
            language: null,
            url: repoApi,
            html_url: html,
            ...(double.tokenKind === "user"
              ? { permissions: { admin: false, maintain: false, push: write, triage: write, pull: true } }
              : {}),
          },
        };
      }
      case "git/create-blob": {
        const content =
          body.encoding === "base64"
            ? Buffer.from(String(body.content), "base64").toString("utf8")
            : String(body.content);
        const sha = (await gitBare(bare, ["hash-object", "-w", "--stdin"], { input: content })).stdout.trim();
        return { status: 201, body: { url: `${repoApi}/git/blobs/${sha}`, sha } };
      }
      case "git/get-commit": {
        const json = await gitCommitJson(p.commit_sha ?? "");
        return json ? { status: 200, body: json } : notFound;
      }
      case "git/create-tree": {
        const entries = (body.tree as { path: string; mode: string; sha: string }[]) ?? [];
        const sha = await writeTree(bare, body.base_tree as string | undefined, entries);
        const listed = (await gitBare(bare, ["ls-tree", sha])).stdout
          .split("\n")
          .filter(Boolean)
          .map((line) => {
            const [meta = "", name = ""] = line.split("\t");
            const [mode = "", type = "", objectSha = ""] = meta.split(" ");
            return { path: name, mode, type, sha: objectSha, url: `${repoApi}/git/${type}s/${objectSha}` };
          });
        return {
          status: 201,
          body: { sha, url: `${repoApi}/git/trees/${sha}`, truncated: false, tree: listed },
        };
      }
      case "git/create-commit": {
        const args = [
          "commit-tree",
          String(body.tree),
          ...((body.parents as string[]) ?? []).flatMap((x) => ["-p", x]),
        ];
        const custom = body.author !== undefined || body.committer !== undefined;
        const who = {
          GIT_AUTHOR_NAME: "github-actions[bot]",
          GIT_AUTHOR_EMAIL: "41898282+github-actions[bot]@users.noreply.github.com",
          GIT_COMMITTER_NAME: "GitHub",
          GIT_COMMITTER_EMAIL: "noreply@github.com",
        };
        const out = await gitBare(bare, args, { input: String(body.message), env: who });
        if (out.code !== 0)
          return { status: 422, body: { message: out.stderr.trim(), documentation_url: docs } };
        const sha = out.stdout.trim();
        if (!custom) double.verified.add(sha);
        return { status: 201, body: await gitCommitJson(sha) };
      }
      case "git/get-ref": {
        const json = await refJson(`refs/${p.ref}`);
        return json ? { status: 200, body: json } : notFound;
      }
      case "git/create-ref": {
        const ref = String(body.ref);
        if ((await gitBare(bare, ["cat-file", "-e", `${String(body.sha)}^{object}`])).code !== 0)
          return { status: 422, body: { message: "Object does not exist", documentation_url: docs } };
        // An empty old value makes update-ref fail if the ref exists: creation is atomic, the lock.
        const out = await gitBare(bare, ["update-ref", ref, String(body.sha), ""]);
        if (out.code !== 0)
          return { status: 422, body: { message: "Reference already exists", documentation_url: docs } };
        return { status: 201, body: await refJson(ref) };
      }
      case "git/update-ref": {
        const ref = `refs/${p.ref}`;
        const current = await refJson(ref);
        if (!current)
          return { status: 422, body: { message: "Reference does not exist", documentation_url: docs } };
        const target = String(body.sha);
        const commitOf = (await gitBare(bare, ["rev-parse", `${current.object.sha}^{commit}`])).stdout.trim();
        if (
          !body.force &&
          (await gitBare(bare, ["merge-base", "--is-ancestor", commitOf, target])).code !== 0
        ) {
          return { status: 422, body: { message: "Update is not a fast forward", documentation_url: docs } };
        }
        const out = await gitBare(bare, ["update-ref", ref, target, current.object.sha]);
        if (out.code !== 0)
          return { status: 422, body: { message: "Update is not a fast forward", documentation_url: docs } };
        return { status: 200, body: await refJson(ref) };
      }
      case "git/get-tag": {
        const out = await gitBare(bare, ["cat-file", "tag", p.tag_sha ?? ""]);
        if (out.code !== 0) return notFound;
        const [head = "", message = ""] = out.stdout.split("\n\n");
        const field = (k: string) =>
          head
            .split("\n")
            .find((l) => l.startsWith(`${k} `))
            ?.slice(k.length + 1) ?? "";
        const tagger = /^(.*) <(.*)> (\d+)/.exec(field("tagger")) ?? [];
        return {
          status: 200,
          body: {
            node_id: `TAG_${p.tag_sha}`,
            tag: field("tag"),
            sha: p.tag_sha,
            url: `${repoApi}/git/tags/${p.tag_sha}`,
            message,
            tagger: {
              name: tagger[1] ?? "",
              email: tagger[2] ?? "",
              date: new Date(Number(tagger[3] ?? 0) * 1000).toISOString(),
            },
            object: {
              type: field("type"),
              sha: field("object"),
              url: `${repoApi}/git/commits/${field("object")}`,
            },
            verification: verification(""),
          },
        };
      }
      case "repos/list-releases": {
        const perPage = Number(query.get("per_page") ?? 30);
        const page = Number(query.get("page") ?? 1);
        const sorted = [...double.releases].sort((a, b) => b.id - a.id);
        return { status: 200, body: sorted.slice((page - 1) * perPage, page * perPage).map(releaseJson) };
      }
      case "repos/create-release": {
        const tag = String(body.tag_name);
        if (double.releases.some((r) => r.tag_name === tag && !r.draft))
          return invalid("Validation Failed", "already_exists");
        const draft = body.draft === true;
        if (
          !draft &&
          (await gitBare(bare, ["rev-parse", "--verify", "--quiet", `refs/tags/${tag}`])).code !== 0
        ) {
          return invalid("Validation Failed: tag does not exist (the double creates no tags)");
        }
        const release: StoredRelease = {
          id: nextId++,
          tag_name: tag,
          name: (body.name as string | undefined) ?? null,
          body: (body.body as string | undefined) ?? null,
          draft,
          prerelease: body.prerelease === true,
          target_commitish: String(body.target_commitish ?? "main"),
          created_at: now(),
          published_at: draft ? null : now(),
        };
        double.releases.push(release);
        return { status: 201, body: releaseJson(release) };
      }
      case "repos/update-release": {
        const release = double.releases.find((r) => r.id === Number(p.release_id));
        if (!release) return notFound;
        if (!release.draft && body.tag_name !== undefined && body.tag_name !== release.tag_name) {
          return invalid("Validation Failed: the tag of a published (immutable) release cannot change");
        }
        if (body.draft === false && release.draft) {
          if (
            (await gitBare(bare, ["rev-parse", "--verify", "--quiet", `refs/tags/${release.tag_name}`]))
              .code !== 0
          ) {
            return invalid("Validation Failed: tag does not exist");
          }
          // Another release of the tag published meanwhile (the await above lets a concurrent
          // request in); publishing this very release twice is a no-op, as on GitHub.
          if (double.releases.some((r) => r.id !== release.id && r.tag_name === release.tag_name && !r.draft))
            return invalid("Validation Failed", "already_exists");
          if (release.draft) {
            release.draft = false;
            release.published_at = now();
          }
        }
        if (typeof body.name === "string") release.name = body.name;
        if (typeof body.body === "string") release.body = body.body;
        const latest = body.make_latest ?? "true";
        if (!release.draft && !release.prerelease && latest === "true") double.latestReleaseId = release.id;
        return { status: 200, body: releaseJson(release) };
      }
      case "repos/delete-release": {
        const index = double.releases.findIndex((r) => r.id === Number(p.release_id));
        if (index < 0) return notFound;
        double.releases.splice(index, 1);
        return { status: 204 };
      }
      case "repos/get-release-by-tag": {
        const release = double.releases.find((r) => r.tag_name === p.tag && !r.draft);
        return release ? { status: 200, body: releaseJson(release) } : notFound;
      }
      case "repos/get-commit": {
        const sha = (
          await gitBare(bare, ["rev-parse", "--verify", "--quiet", `${p.ref}^{commit}`])
        ).stdout.trim();
        const c = sha ? await gitCommitJson(sha) : undefined;
        if (!c) return notFound;
        return {
          status: 200,
          body: {
            url: `${repoApi}/commits/${sha}`,
            sha,
            node_id: c.node_id,
            html_url: c.html_url,
            comments_url: `${repoApi}/commits/${sha}/comments`,
            commit: {
              url: c.url,
              author: c.author,
              committer: c.committer,
              message: c.message,
              comment_count: 0,
              tree: c.tree,
              verification: c.verification,
            },
            author: null,
            committer: null,
            parents: c.parents,
          },
        };
      }
      case "issues/list-comments": {
        const perPage = Number(query.get("per_page") ?? 30);
        const page = Number(query.get("page") ?? 1);
        const all = double.comments.filter((c) => c.issue_number === Number(p.issue_number));
        return { status: 200, body: all.slice((page - 1) * perPage, page * perPage).map(commentJson) };
      }
      case "issues/create-comment": {
        const comment: StoredComment = {
          id: nextId++,
          issue_number: Number(p.issue_number),
          body: String(body.body),
          author: { login: "github-actions[bot]", type: "Bot" },
          created_at: now(),
          updated_at: now(),
        };
        double.comments.push(comment);
        return { status: 201, body: commentJson(comment) };
      }
      case "issues/get-comment": {
        const comment = double.comments.find((c) => c.id === Number(p.comment_id));
        return comment ? { status: 200, body: commentJson(comment) } : notFound;
      }
      case "issues/update-comment": {
        const comment = double.comments.find((c) => c.id === Number(p.comment_id));
        if (!comment) return notFound;
        // A token may edit another author's comment only with write access to the repository
        // (GitHub answers 403 otherwise); the double's token edits only its own.
        if (comment.author.type !== "Bot")
          return {
            status: 403,
            body: {
              message: "Resource not accessible by integration",
              documentation_url: docs,
              status: "403",
            },
          };
        comment.body = String(body.body);
        comment.updated_at = now();
        return { status: 200, body: commentJson(comment) };
      }
      default:
        return notFound;
    }
  }

  server.on("request", async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", api);
    const method = req.method ?? "GET";
    const op = contract.match(method, url.pathname);
    const send = (status: number, body?: unknown, injected = false) => {
      double.requests.push({
        method,
        path: url.pathname + url.search,
        status,
        ...(op ? { operationId: op.operationId } : {}),
      });
      if (op && !injected) double.violations.push(...contract.validateResponse(op, status, body));
      if (injected)
        double.violations.push(...contract.validateBasicError(body, `${op?.operationId} injected ${status}`));
      const scopes =
        double.tokenKind === "classic"
          ? { "x-oauth-scopes": double.permission === "write" ? "repo, workflow" : "" }
          : {};
      res.writeHead(status, { "content-type": "application/json", ...scopes });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    if (!op) {
      double.violations.push(`${method} ${url.pathname}: not an endpoint the double implements`);
      send(404, { message: "Not Found", documentation_url: docs });
      return;
    }
    let body: Record<string, unknown> | undefined;
    try {
      body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    } catch {
      double.violations.push(`${op.operationId}: request body is not JSON`);
    }
    double.violations.push(...contract.validateRequest(op, body));
    if (req.headers.authorization !== `Bearer ${token}`) {
      send(401, { message: "Bad credentials", documentation_url: docs, status: "401" });
      return;
    }
    let fault = faults.find((f) => f.method === method && f.path.test(url.pathname) && (f.times ?? 1) > 0);
    if (countdown && --countdown.left === 0) {
      fault = { method, path: /./, status: countdown.status, times: 1 };
      countdown = undefined;
    }
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.status === "refused") {
        double.requests.push({
          method,
          path: url.pathname + url.search,
          status: 0,
          ...(op ? { operationId: op.operationId } : {}),
        });
        req.socket.destroy();
        return;
      }
      send(
        fault.status,
        { message: fault.message ?? "injected fault", documentation_url: docs, status: String(fault.status) },
        true,
      );
      return;
    }
    if (double.permission === "read" && method !== "GET") {
      send(403, {
        message: "Resource not accessible by integration",
        documentation_url: docs,
        status: "403",
      });
      return;
    }
    try {
      const result = await handle(op, body ?? {}, url.searchParams);
      send(result.status, result.body);
    } catch (error) {
      double.violations.push(`${op.operationId}: double crashed: ${(error as Error).message}`);
      send(500, { message: (error as Error).message });
    }
  });
  return double;
}
