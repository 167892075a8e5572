import { run } from "./main.ts";

// The runner's entry (action.yml `main: dist/index.js`): run() never throws.
await run();
