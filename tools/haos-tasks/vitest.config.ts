import { existsSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "vitest/config";

// Upstream schema sources are read through a mirror when one sits beside the checkout (CI and
// developer machines of this project have ../shared/upstream); otherwise they are downloaded.
const siblingMirror = path.resolve(import.meta.dirname, "../../../shared/upstream");
const mirror =
  process.env.HAOS_TASKS_SCHEMA_MIRROR ?? (existsSync(siblingMirror) ? siblingMirror : undefined);

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Integration tests start etcd + kube-apiserver (a few seconds each) and run real git and
    // kubeconform; 2 cores, so at most two files at once.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // .ci/run asks for a JSON report to print a plain "N passed, N failed" closing line.
    reporters: process.env.HAOS_TASKS_TEST_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.HAOS_TASKS_TEST_REPORT ? { json: process.env.HAOS_TASKS_TEST_REPORT } : {},
    globalSetup: ["test/support/global-setup.ts"],
    env: mirror ? { HAOS_TASKS_SCHEMA_MIRROR: mirror } : {},
  },
});
