import { loadConfig } from "../config/load.ts";
import { git } from "../git/runner.ts";
import { applyRelease } from "../release/apply.ts";
import { planLinked } from "../release/linked.ts";
import type { ReleasePlan } from "../release/planner.ts";
import { renderPlanText } from "../release/render-plan.ts";
import { findComponent, readPlanInput } from "../release/snapshot.ts";
import { chooseTransport } from "../release/transports/choose.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getOptional, InputError } from "./inputs.ts";

interface ReleaseInputs {
  root: string;
  component?: string;
  prerelease?: string;
  /** The core reads the token from GITHUB_TOKEN, as the CLI does; the `token` input supplies it. */
  env: NodeJS.ProcessEnv;
}

/** Parses the release inputs into what `haos-tasks release plan|apply` builds from its flags. */
export async function releaseInputs(ctx: ActionContext): Promise<ReleaseInputs> {
  const prerelease = getOptional("prerelease", ctx.env);
  if (prerelease !== undefined && (!/^[0-9A-Za-z-]+$/.test(prerelease) || /^\d+$/.test(prerelease))) {
    throw new InputError("prerelease", `must be an identifier like rc or beta (got '${prerelease}')`);
  }
  const token = getOptional("token", ctx.env);
  const root = (
    await git(ctx.cwd, ["rev-parse", "--show-toplevel"], {
      hint: "check out the repository first (actions/checkout with fetch-depth: 0)",
    })
  ).trim();
  const component = getOptional("component", ctx.env);
  return {
    root,
    ...(component ? { component } : {}),
    ...(prerelease ? { prerelease } : {}),
    env: token ? { ...ctx.env, GITHUB_TOKEN: token } : ctx.env,
  };
}

async function planAll(inputs: ReleaseInputs): Promise<ReleasePlan[]> {
  const { release: config } = await loadConfig(inputs.root);
  const names = inputs.component
    ? [findComponent(config, inputs.component).name]
    : config.components.map((c) => c.name);
  const plans: ReleasePlan[] = [];
  for (const name of names) {
    plans.push(
      await planLinked(config, name, (n) =>
        readPlanInput(inputs.root, config, findComponent(config, n), {
          env: inputs.env,
          ...(inputs.prerelease ? { prerelease: inputs.prerelease } : {}),
        }),
      ),
    );
  }
  return plans;
}

const planBlock = (plans: ReleasePlan[]) =>
  `## haos-tasks release plan\n\n${plans.map((p) => `\`\`\`text\n${renderPlanText(p).trimEnd()}\n\`\`\``).join("\n\n")}\n`;

/** `command: version-bump` — the plan only (pure): next version, tag and notes as outputs. */
export async function runVersionBump(ctx: ActionContext): Promise<ActionResult> {
  const plans = await planAll(await releaseInputs(ctx));
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
  const inputs = await releaseInputs(ctx);
  const { release: config } = await loadConfig(inputs.root);
  const names = inputs.component
    ? [findComponent(config, inputs.component).name]
    : config.components.map((c) => c.name);
  const releases: {
    component: string;
    status: string;
    version: string | null;
    tag: string | null;
    url: string | null;
  }[] = [];
  let created: { version: string; tag: string; url: string; sha: string } | undefined;
  for (const name of names) {
    const plan = await planLinked(config, name, (n) =>
      readPlanInput(inputs.root, config, findComponent(config, n), {
        env: inputs.env,
        ...(inputs.prerelease ? { prerelease: inputs.prerelease } : {}),
      }),
    );
    if (plan.status === "blocked") {
      await ctx.summary(planBlock([plan]));
      return { failure: `${plan.component}: ${plan.summary}` };
    }
    const transport = chooseTransport(config.transport, {
      root: inputs.root,
      config,
      env: inputs.env,
      ...(plan.repository ? { repository: plan.repository } : {}),
    });
    const result = await applyRelease(plan, transport, {
      onEvent: (e) => ctx.log(`[${plan.component}] ${e.phase}: ${e.status} — ${e.detail}`),
    });
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
