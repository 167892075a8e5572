import { existsSync } from "node:fs";
import path from "node:path";

// As in vitest.config.ts: upstream schema sources are read through the mirror beside the checkout
// when there is one (this project's machines have ../shared/upstream); otherwise they download.
const sibling = path.resolve(import.meta.dirname, "../../../../shared/upstream");
if (!process.env.HAOS_TASKS_SCHEMA_MIRROR && existsSync(sibling))
  process.env.HAOS_TASKS_SCHEMA_MIRROR = sibling;
