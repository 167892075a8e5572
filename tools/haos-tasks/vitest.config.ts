import { defineConfig } from "vitest/config";

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
  },
});
