import {
  collect,
  isPrereleaseId,
  progressLine,
  type ReleaseFlowOptions,
  releaseComponents,
} from "../release/flow.ts";
import type { ReleasePlan } from "../release/planner.ts";
import { renderPlanText } from "../release/render-plan.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getOptional, InputError } from "./inputs.ts";

/** The flow's options from the inputs: what `haos-tasks release plan|apply` builds from its flags. */
export function releaseInputs(ctx: ActionContext): ReleaseFlowOptions {
  const prerelease = getOptional("prerelease", ctx.env);
  if (prerelease !== undefined && !isPrereleaseId(prerelease)) {
    throw new InputError("prerelease", `must be an identifier like rc or beta (got '${prerelease}')`);
  }
  const token = getOptional("token", ctx.env);
  const component = getOptional("component", ctx.env);
  return {
    cwd: ctx.cwd,
    outsideRepositoryHint: "check out the repository first (actions/checkout with fetch-depth: 0)",
    ...(component ? { component } : {}),
    ...(prerelease ? { prerelease } : {}),
    // The core reads the token from GITHUB_TOKEN, as the CLI does; the `token` input supplies it.
    env: token ? { ...ctx.env, GITHUB_TOKEN: token } : ctx.env,
  };
}

const planBlock = (plans: ReleasePlan[]) =>
  `## haos-tasks release plan\n\n${plans.map((p) => `\`\`\`text\n${renderPlanText(p).trimEnd()}\n\`\`\``).join("\n\n")}\n`;

/** `command: version-bump` — the plan only (pure): next version, tag and notes as outputs. */
export async function runVersionBump(ctx: ActionContext): Promise<ActionResult> {
  const outcomes = await collect(releaseComponents({ ...releaseInputs(ctx), dryRun: true }));
  const plans = outcomes.map((o) => o.plan);
  const releasable = plans.filter((p) => p.status === "release" || p.status === "resume");
  const last = releasable.at(-1);
  ctx.setOutput("releasable", releasable.length > 0);
  ctx.setOutput("version", last?.release?.version ?? "");
  ctx.setOutput("previous-version", last?.previous?.version ?? last?.baseline.version ?? "");
  ctx.setOutput("tag-name", last?.release?.tag ?? "");
  ctx.setOutput(
    "releases",
    JSON.stringify(
      plans.map((p) => ({
        component: p.component,
        status: p.status,
        version: p.release?.version ?? null,
        tag: p.release?.tag ?? null,
      })),
    ),
  );
  await ctx.summary(planBlock(plans));
  const blocked = plans.filter((p) => p.status === "blocked");
  return blocked.length > 0 ? { failure: blocked.map((p) => `${p.component}: ${p.summary}`).join("\n") } : {};
}

/** `command: release` — plan and apply each component in turn, exactly as `release apply`. */
export async function runRelease(ctx: ActionContext): Promise<ActionResult> {
  const releases: {
    component: string;
    status: string;
    version: string | null;
    tag: string | null;
    url: string | null;
  }[] = [];
  let created: { version: string; tag: string; url: string; sha: string } | undefined;
  const run = releaseComponents({
    ...releaseInputs(ctx),
    onEvent: (component, event) => ctx.log(progressLine(component, event)),
  });
  for await (const outcome of run) {
    const { plan } = outcome;
    if (outcome.status === "blocked") {
      await ctx.summary(planBlock([plan]));
      return { failure: `${plan.component}: ${plan.summary}` };
    }
    if (outcome.status === "failed") throw outcome.error;
    if (outcome.status !== "applied") continue;
    const { result } = outcome;
    ctx.log(result.message);
    releases.push({
      component: plan.component,
      status: result.status,
      version: plan.release?.version ?? null,
      tag: plan.release?.tag ?? null,
      url: result.releaseUrl ?? null,
    });
    if (result.status === "released" && plan.release) {
      created = {
        version: plan.release.version,
        tag: plan.release.tag,
        url: result.releaseUrl ?? "",
        sha: result.sha ?? "",
      };
    }
  }
  ctx.setOutput("release-created", created !== undefined);
  ctx.setOutput("version", created?.version ?? "");
  ctx.setOutput("tag-name", created?.tag ?? "");
  ctx.setOutput("html-url", created?.url ?? "");
  ctx.setOutput("sha", created?.sha ?? "");
  ctx.setOutput("releases", JSON.stringify(releases));
  const rows = releases.map(
    (r) => `| ${r.component} | ${r.status} | ${r.tag ?? ""} | ${r.url ? `[release](${r.url})` : ""} |`,
  );
  await ctx.summary(
    `## haos-tasks release\n\n| component | result | tag | release |\n|---|---|---|---|\n${rows.join("\n")}\n`,
  );
  return {};
}
