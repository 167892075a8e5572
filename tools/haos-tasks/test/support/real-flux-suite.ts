import { afterAll, beforeAll, beforeEach } from "vitest";
import { type RealFluxApp, type RealFluxAppOptions, startRealFluxApp } from "./real-flux-app.ts";
import { startVerifyCli } from "./verify-harness.ts";

/**
 * One real-Flux environment for the scenarios of a describe block (they run in order, each on top
 * of the previous one's commits): started before them, its setup times and the controllers' peak
 * RSS printed, the controller logs and the simulated writes printed when a scenario fails.
 */
export function useRealFluxApp(label: string, options: RealFluxAppOptions = {}): () => RealFluxApp {
  let env: RealFluxApp | undefined;
  beforeEach(({ task, onTestFailed }) => {
    // The controllers' logs and the simulated writes as they were when the scenario failed.
    onTestFailed(() => {
      if (env) process.stderr.write(`${label}: "${task.name}" failed; logs:\n${env.logs()}\n`);
    });
  });
  beforeAll(async () => {
    env = await startRealFluxApp(options);
    process.stderr.write(
      `${label}: real-Flux setup (ms) ${JSON.stringify(env.timings)}; controller startup (ms) ${JSON.stringify(env.flux.startupMs)}\n`,
    );
  }, 240_000);
  afterAll(async () => {
    if (!env) return;
    process.stderr.write(`${label}: controllers' peak RSS (KiB) ${JSON.stringify(env.flux.peakRssKiB())}\n`);
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
