// Prints vitest's JSON report as one plain closing line ("Tests: N passed, N failed, N skipped")
// plus the names of skipped tests with their reason, so CI logs state what ran.
import { readFileSync } from "node:fs";

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, "utf8"));
const skipped = [];
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
    if (t.status === "skipped" || t.status === "pending") skipped.push(t.fullName);
  }
}
for (const name of skipped) console.log(`skipped: ${name}`);
console.log(
  `Tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped.length} skipped`,
);
process.exit(report.numFailedTests > 0 ? 1 : 0);
