import { describeError, HintedError } from "../../errors.ts";
import type { ApplyResult } from "../../release/apply.ts";
import {
  collect,
  isPrereleaseId,
  progressLine,
  type ReleaseFlowOptions,
  type ReleaseOutcome,
  releaseComponents,
} from "../../release/flow.ts";
import type { ReleasePlan } from "../../release/planner.ts";
import { renderPlanText } from "../../release/render-plan.ts";
import {
  isTransportChoice,
  oneOf,
  transportChoices,
  transportHelp,
} from "../../release/transports/catalog.ts";
import {
  type Command,
  type CommandArgs,
  type CommandIO,
  ExitCode,
  formatOption,
  helpOption,
  internalExitText,
  terminalSafeIO,
  UsageError,
} from "../command.ts";

const common = {
  ...helpOption,
  component: {
    type: "string",
    valueName: "name",
    description: "Component to release (default: all, one after another).",
  },
  format: { type: "string", valueName: "text|json", description: "Output format.", default: "text" },
  prerelease: {
    type: "string",
    valueName: "id",
    description: "Prerelease identifier, e.g. rc → 1.2.0-rc.1, rc.2, …",
  },
} as const;

const details = `Components, tags and the scoping rule come from the release: section of .haos-tasks.yaml.
Commits are read as release-please reads them: whitespace after the colon, footers only in the
trailing footer block (\`Fixes #n\` there is rendered ", closes #n"; in the body it is text), squash
bodies split at paragraphs starting \`type(scope): \`, at \`type: …\` footers and BEGIN_NESTED_COMMIT
blocks, \`deps\` hidden by default, a commit with a Release-As footer listed, entries sorted as
release-please's changelog writer sorts them (scope + subject, locale order).

Keys of release: (each per component too where marked *; a component's value wins, the plan's
"policy:" line shows where each came from):
  bumpMinorPreMajor*, bumpPatchForMinorPreMajor*   below 1.0.0: breaking → minor, feature → patch
  types*             [{type, section, hidden, bump: major|minor|patch|none}] (changelog-sections)
  draft*             the GitHub release stays a draft
  prerelease*        a 0.x release is a GitHub prerelease too
  skipGithubRelease* commit, tag and push only
  plugins*           [sentence-case]: entries start upper-case, as release-please's plugin;
                     [node-workspace]: a component whose <path>/package.json depends on a
                     workspace package released in the run is released too (a patch, its ranges
                     updated, release-please's ### Dependencies section), transitively
  releaseRules*      semantic-release's [{type, scope, subject, breaking, revert, release:
                     major|minor|patch|false}] (globs); commit-analyzer's default rules for a
                     commit none matches; then the types' bump is not used
  linkedVersions     [{group, components: [a, b]}]: release-please's linked-versions plugin —
                     the members release together at the highest version any of them needs
  initialVersion, remote, transport (${transportChoices.join("|")}), repository (owner/name), components
Keys of a component: path, extraPaths, excludes, tags, majorTag, releaseName, commitMessage,
  makeLatest, releaseAs, bootstrapSha | lastReleaseSha, changelog | changelogPath,
  versionFile (one file) | versionFiles (several; the first gives the current version):
    - version.txt / VERSION / *.txt          the whole file is the version
    - package.json                           "version", and its package-lock.json entries
    - {path: Chart.yaml, appVersion: true}   version (and appVersion)
    - any other path                         lines marked x-release-please-version, or a
                                             x-release-please-start-version … x-release-please-end block
    - {path, type: text|json|chart|generic}  the type given explicitly
  Only the version's bytes change; a malformed file blocks the plan at file:line; version files
  that disagree are reported. Unknown keys are errors at their line.
A tag whose GitHub release is missing plans as unfinished (read with a token); apply first proves
the token may push and create releases (GET /repos: permissions or scopes, else a write probe).
Without bootstrapSha, a version file and a CHANGELOG section for its version but no tag plan
"tag <version> at the commit that set it".

Deliberate differences from release-please (test/integration/release-differential.test.ts):
  - merge commits are excluded, their changes count through the merged commits (release-please
    also reads a merge commit's own message);
  - a stable release after prereleases lists every change since the previous stable release
    (release-please lists only what came after the last prerelease);
  - a squash-merged GitHub revert (\`Revert "fix: x" (#123)\`, \`Reverts owner/repo#122\`) cancels
    the reverted pull request in the same range (release-please cannot parse that header and keeps
    the fix); a GitHub revert of a change released before is ignored, as release-please does;
  - references are written ", closes #n" as release-please did until 17.10.4 (it now writes
    ", refs #n");
  - a releaseAs not above the current version is ignored with a warning (release-please proposes
    it again until the key is removed);
  - node-workspace: there is no release pull request, so each dependent is released in its own
    commit of the same run, and one planned after its dependency was applied counts that release
    (its tag, only release commits since); the plugin's notes go into a visible "Dependencies"
    section after its list (release-please repeats the whole entry there instead; both pinned in
    test/integration/release-workspace.test.ts).

Examples:
  haos-tasks release plan                          # every component, text
  haos-tasks release plan --component haos-enigma --format json
  haos-tasks release plan --prerelease rc          # 1.2.0-rc.1, rc.2, … then plain plan graduates
  haos-tasks release apply --component haos-enigma # finishes an unfinished release too

Exit codes: 0 planned/released/nothing to release, 1 blocked or a failed step, 2 usage or
configuration, 4 forbidden (the token lacks \`contents: write\`), 5 GitHub unreachable,
${internalExitText}.`;

/** The flow's options from the flags (and GITHUB_* from the environment). */
function flowOptions(args: CommandArgs, io: CommandIO): ReleaseFlowOptions {
  const prerelease = args.values.prerelease;
  if (prerelease !== undefined && (typeof prerelease !== "string" || !isPrereleaseId(prerelease))) {
    throw new UsageError(`--prerelease must be an identifier like rc or beta (got '${String(prerelease)}')`);
  }
  const apiUrl = io.env.GITHUB_API_URL;
  if (apiUrl !== undefined && apiUrl !== "" && !/^https?:$/.test(URL.parse(apiUrl)?.protocol ?? "")) {
    // Bad configuration (exit 2), not an unreachable GitHub (exit 5).
    throw new UsageError(
      `GITHUB_API_URL must be an http(s) URL like https://api.github.com (got '${apiUrl}')`,
    );
  }
  return {
    cwd: io.cwd,
    outsideRepositoryHint: "run inside the git repository",
    env: io.env,
    ...(typeof args.values.component === "string" ? { component: args.values.component } : {}),
    ...(typeof prerelease === "string" ? { prerelease } : {}),
  };
}

/** `release plan` and `release apply --dry-run`: every component's plan. */
async function printPlans(
  options: ReleaseFlowOptions,
  format: "text" | "json",
  io: CommandIO,
): Promise<number> {
  const plans = (await collect(releaseComponents({ ...options, dryRun: true }))).map((o) => o.plan);
  if (format === "json") io.stdout(`${JSON.stringify({ plans }, null, 2)}\n`);
  else io.stdout(plans.map(renderPlanText).join("\n"));
  return plans.some((p) => p.status === "blocked") ? ExitCode.failure : ExitCode.ok;
}

/** An expected failure, printed through the terminal-safe io (a message may quote a commit subject). */
function failed(error: unknown, io: CommandIO): number {
  if (error instanceof HintedError) {
    io.stderr(`error: ${describeError(error)}\n`);
    return error.exitCode;
  }
  throw error;
}

/** What `release apply --format json` prints for one component. */
interface ApplyReport {
  component: string;
  status: ApplyResult["status"] | "blocked" | "failed";
  message: string;
  version: string | null;
  tag: string | null;
  sha: string | null;
  html_url: string | null;
  /** The steps that succeeded in this run, in order (a re-run lists only what was left). */
  steps: string[];
  hint?: string;
  findings?: ReleasePlan["findings"];
}

function applyReport(outcome: Exclude<ReleaseOutcome, { status: "planned" }>): ApplyReport {
  const { plan } = outcome;
  const result = outcome.status === "applied" ? outcome.result : undefined;
  const report: ApplyReport = {
    component: plan.component,
    status: outcome.status === "applied" ? outcome.result.status : outcome.status,
    message: result?.message ?? (outcome.status === "failed" ? outcome.error.message : plan.summary),
    version: plan.release?.version ?? null,
    tag: plan.release?.tag ?? null,
    sha: result?.sha ?? plan.commit?.sha ?? null,
    html_url: result?.releaseUrl ?? null,
    steps: outcome.status === "blocked" ? [] : outcome.steps,
  };
  if (outcome.status === "failed") report.hint = outcome.error.hint;
  if (outcome.status === "blocked") report.findings = plan.findings;
  return report;
}

/** Applies each component in turn; `--format json` reports them all as one document. */
async function applyAll(
  options: ReleaseFlowOptions,
  format: "text" | "json",
  io: CommandIO,
): Promise<number> {
  const results: ApplyReport[] = [];
  // JSON is one document of every component tried, printed also when one stops the run.
  const report = () => {
    if (format === "json") io.stdout(`${JSON.stringify({ results }, null, 2)}\n`);
  };
  const run = releaseComponents({
    ...options,
    onEvent: (component, event) => io.stderr(`${progressLine(component, event)}\n`),
  });
  for await (const outcome of run) {
    if (outcome.status === "planned") continue; // dry runs print plans (printPlans)
    if (format === "json") results.push(applyReport(outcome));
    if (outcome.status === "blocked") {
      if (format === "text") io.stdout(renderPlanText(outcome.plan));
      report();
      return ExitCode.failure;
    }
    if (outcome.status === "failed") {
      report();
      throw outcome.error;
    }
    if (format === "text") io.stdout(`${outcome.result.message}\n`);
  }
  report();
  return ExitCode.ok;
}

export const releasePlanCommand: Command = {
  path: ["release", "plan"],
  summary: "Show what a release would do: commits, bump, next version, notes, file changes (pure)",
  usage: "haos-tasks release plan [--component <name>] [--format text|json] [--prerelease <id>]",
  details,
  examples: [
    "haos-tasks release plan                          # every component",
    "haos-tasks release plan --component haos-enigma --format json",
    "haos-tasks release plan --prerelease rc",
  ],
  options: { ...common },
  async run(args, raw) {
    // Commit subjects reach the output: an ESC in one must not drive the terminal.
    const io = terminalSafeIO(raw);
    const format = formatOption(args.values.format, ["text", "json"] as const, "text");
    try {
      return await printPlans(flowOptions(args, io), format, io);
    } catch (error) {
      return failed(error, io);
    }
  },
};

export const releaseApplyCommand: Command = {
  path: ["release", "apply"],
  summary: "Execute the release plan: version.txt, CHANGELOG.md, commit, tag, push, GitHub release",
  usage: `haos-tasks release apply [--component <name>] [--prerelease <id>] [--transport ${transportChoices.join("|")}] [--format text|json] [--dry-run]`,
  details: `${details}
${transportHelp()}
The GitHub release needs GITHUB_TOKEN (or GH_TOKEN) either way.
--format json prints {"results": [...]}, one entry per component tried (status, version, tag, sha,
html_url, steps done); progress goes to stderr.`,
  examples: [
    "haos-tasks release apply --dry-run               # the plan, nothing changed",
    "haos-tasks release apply --component haos-enigma --transport git",
    "GITHUB_TOKEN=… haos-tasks release apply --transport github",
  ],
  options: {
    ...common,
    "dry-run": { type: "boolean", description: "Print the plan, change nothing." },
    transport: {
      type: "string",
      valueName: transportChoices.join("|"),
      description: "How to commit and tag (default: release.transport, auto).",
    },
  },
  async run(args, raw) {
    // Commit subjects reach the output: an ESC in one must not drive the terminal.
    const io = terminalSafeIO(raw);
    const format = formatOption(args.values.format, ["text", "json"] as const, "text");
    try {
      const options = flowOptions(args, io);
      if (args.values["dry-run"]) return await printPlans(options, format, io);
      const transport = args.values.transport;
      if (transport !== undefined && !isTransportChoice(transport)) {
        throw new UsageError(`--transport must be ${oneOf(transportChoices)} (got '${String(transport)}')`);
      }
      return await applyAll({ ...options, ...(transport !== undefined ? { transport } : {}) }, format, io);
    } catch (error) {
      return failed(error, io);
    }
  },
};
