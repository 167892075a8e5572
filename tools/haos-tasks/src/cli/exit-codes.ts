// Moved to src/exit-codes.ts (the core must not import from the CLI); kept for existing imports.
export { ExitCode, type ExitCodeValue } from "../exit-codes.ts";
