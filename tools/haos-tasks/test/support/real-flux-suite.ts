import { afterAll, beforeAll } from "vitest";
import { type RealFluxApp, type RealFluxAppOptions, startRealFluxApp } from "./real-flux-app.ts";
import { startVerifyCli } from "./verify-harness.ts";

/**
 * One real-Flux environment for the scenarios of a describe block (they run in order, each on top
 * of the previous one's commits): started before them, its setup times and the controllers' peak
 * RSS printed, the controller logs and the simulated writes printed when a scenario failed.
 */
export function useRealFluxApp(label: string, options: RealFluxAppOptions = {}): () => RealFluxApp {
  let env: RealFluxApp | undefined;
  beforeAll(async () => {
    env = await startRealFluxApp(options);
    process.stderr.write(
      `${label}: real-Flux setup (ms) ${JSON.stringify(env.timings)}; controller startup (ms) ${JSON.stringify(env.flux.startupMs)}\n`,
    );
  }, 240_000);
  afterAll(async (_context, suite) => {
    if (!env) return;
    process.stderr.write(`${label}: controllers' peak RSS (KiB) ${JSON.stringify(env.flux.peakRssKiB())}\n`);
    if (suite.tasks.some((t) => t.result?.state === "fail")) process.stderr.write(`${env.logs()}\n`);
    await env.stop();
  }, 60_000);
  return () => {
    if (!env) throw new Error("the real-Flux environment did not start (see the beforeAll error)");
    return env;
  };
}

/** `haos-tasks verify --format json` for `sha` of the env's app, as the shipped ServiceAccount. */
export function verifyOn(
  env: RealFluxApp,
  sha: string,
  ...extra: string[]
): ReturnType<typeof startVerifyCli> {
  return startVerifyCli(
    [
      "--app",
      env.repo.appDir,
      "--revision",
      sha,
      "--kubeconfig",
      env.kubeconfig,
      "--app-url",
      env.pageUrl,
      "--timeout",
      "120s",
      ...extra,
    ],
    env.repo.work,
  );
}
