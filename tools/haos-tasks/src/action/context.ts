import { existsSync } from "node:fs";
import path from "node:path";
import * as core from "@actions/core";
import { getOptional, InputError } from "./inputs.ts";

/** What a command needs from the runner: inputs (env), the checkout, outputs, summary and log. */
export interface ActionContext {
  env: NodeJS.ProcessEnv;
  /** The checkout: GITHUB_WORKSPACE joined with the `working-directory` input. */
  cwd: string;
  setOutput(name: string, value: string | number | boolean): void;
  /** Appends Markdown to the job summary (GITHUB_STEP_SUMMARY). */
  summary(markdown: string): Promise<void>;
  log(line: string): void;
  /** Workflow-command lines (`::error file=…::…`), already capped by the reporter. */
  annotate(lines: readonly string[]): void;
}

/** How a command ended: failure carries the one-line reason the step fails with. */
export interface ActionResult {
  failure?: string;
  /**
   * The command printed the failure's ::error annotation itself: the step fails (exit 1) and the
   * reason goes to the log, without a second ::error line for the same failure.
   */
  annotated?: boolean;
}

/** The runner-backed context (@actions/core writes GITHUB_OUTPUT with its heredoc format). */
export function runnerContext(env: NodeJS.ProcessEnv): ActionContext {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const cwd = path.resolve(workspace, getOptional("working-directory", env) ?? ".");
  if (!existsSync(cwd)) {
    throw new InputError("working-directory", `names a folder that does not exist: ${cwd}`);
  }
  return {
    env,
    cwd,
    setOutput: (name, value) => core.setOutput(name, String(value)),
    summary: async (markdown) => {
      if (!env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(markdown, true).write();
    },
    log: (line) => core.info(line),
    // Through @actions/core (which writes the same workflow command), so that whatever stands in
    // for core — GitHub's local-action — sees the annotations too.
    annotate: (lines) => {
      for (const line of lines) {
        const annotation = parseAnnotation(line);
        if (annotation?.level === "error") core.error(annotation.message, annotation.properties);
        else if (annotation?.level === "warning") core.warning(annotation.message, annotation.properties);
        else if (annotation?.level === "notice") core.notice(annotation.message, annotation.properties);
        else process.stdout.write(`${line}\n`);
      }
    },
  };
}

const unescapeData = (s: string): string =>
  s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const unescapeProperty = (s: string): string => unescapeData(s.replace(/%3A/g, ":").replace(/%2C/g, ","));

/**
 * An `::error file=…,line=…::message` line (as the reporters render them, GitHub's caps applied)
 * read back into what @actions/core's error/warning/notice take; undefined for anything else.
 */
export function parseAnnotation(
  line: string,
):
  | { level: "error" | "warning" | "notice"; message: string; properties: core.AnnotationProperties }
  | undefined {
  const match = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/s.exec(line);
  if (!match) return undefined;
  const properties: core.AnnotationProperties = {};
  for (const pair of (match[2] ?? "").split(",").filter(Boolean)) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    const value = unescapeProperty(pair.slice(at + 1));
    if (key === "title") properties.title = value;
    else if (key === "file") properties.file = value;
    else if (key === "line") properties.startLine = Number(value);
    else if (key === "endLine") properties.endLine = Number(value);
    else if (key === "col") properties.startColumn = Number(value);
    else if (key === "endColumn") properties.endColumn = Number(value);
    else return undefined;
  }
  return {
    level: match[1] as "error" | "warning" | "notice",
    message: unescapeData(match[3] ?? ""),
    properties,
  };
}
