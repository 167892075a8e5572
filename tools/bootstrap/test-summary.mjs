// Prints vitest's JSON report as one plain closing line ("Tests: N passed, N failed, N skipped")
// plus the names of skipped tests with their reason, so CI logs state what ran.
import { readFileSync } from "node:fs";

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, "utf8"));
const skipped = [];
// A file whose setup (beforeAll) throws reports its tests as skipped, not failed: those count as
// failed here, so the closing line never calls a broken suite green.
const brokenFiles = [];
for (const suite of report.testResults ?? []) {
  const tests = suite.assertionResults ?? [];
  if (suite.status === "failed" && !tests.some((t) => t.status === "failed")) {
    brokenFiles.push(suite.name);
    for (const t of tests) console.log(`failed (suite setup): ${t.fullName}`);
    continue;
  }
  for (const t of tests) {
    if (t.status === "skipped" || t.status === "pending") skipped.push(t.fullName);
  }
}
const failed =
  report.numFailedTests +
  (report.testResults ?? [])
    .filter((s) => brokenFiles.includes(s.name))
    .reduce((n, s) => n + Math.max(1, (s.assertionResults ?? []).length), 0);
for (const name of skipped) console.log(`skipped: ${name}`);
console.log(`Tests: ${report.numPassedTests} passed, ${failed} failed, ${skipped.length} skipped`);
process.exit(failed > 0 || brokenFiles.length > 0 ? 1 : 0);
