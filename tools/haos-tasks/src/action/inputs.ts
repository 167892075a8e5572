import { HintedError } from "../errors.ts";
/** A bad or missing input; the message names the input and the accepted values. */
export class InputError extends HintedError {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`input '${input}' ${message}`, "");
    this.input = input;
  }
}

/** The environment variable the runner sets for an input (as @actions/core reads it). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** An input's trimmed value, or undefined when it is empty or unset. */
export function getOptional(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[inputVariable(name)]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** An input that must be set; `why` says for what, e.g. "for command diff". */
export function getRequired(name: string, env: NodeJS.ProcessEnv, why = ""): string {
  const value = getOptional(name, env);
  if (value === undefined) throw new InputError(name, `is required${why ? ` ${why}` : ""}`);
  return value;
}

const TRUE = ["true", "True", "TRUE"];
const FALSE = ["false", "False", "FALSE"];

/** A boolean input (YAML 1.2 core schema spellings, as @actions/core accepts). */
export function getBoolean(name: string, env: NodeJS.ProcessEnv, fallback: boolean): boolean {
  const value = getOptional(name, env);
  if (value === undefined) return fallback;
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new InputError(name, `must be true or false (got '${value}')`);
}

/** One of a fixed set of values. */
export function getChoice<T extends string>(
  name: string,
  env: NodeJS.ProcessEnv,
  allowed: readonly T[],
  fallback?: T,
): T {
  const value = getOptional(name, env);
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new InputError(name, `is required: one of ${allowed.join(", ")}`);
  }
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(name, `must be one of ${allowed.join(", ")} (got '${value}')`);
}

/** A list input: entries separated by newlines or commas, blanks dropped. */
export function getList(name: string, env: NodeJS.ProcessEnv): string[] {
  return (getOptional(name, env) ?? "")
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
