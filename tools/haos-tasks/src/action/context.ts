import { existsSync } from "node:fs";
import path from "node:path";
import * as core from "@actions/core";
import type { Annotation } from "../report/github.ts";
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
  /** Annotations, already capped by the reporter. */
  annotate(annotations: readonly Annotation[]): void;
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
    // Through @actions/core (which writes the workflow command), so that whatever stands in for
    // core — GitHub's local-action — sees the annotations too.
    annotate: (annotations) => {
      const write = { error: core.error, warning: core.warning, notice: core.notice };
      for (const a of annotations) write[a.level](a.message, annotationProperties(a));
    },
  };
}

/** What @actions/core's error/warning/notice take for an annotation's place and title. */
export function annotationProperties(a: Annotation): core.AnnotationProperties {
  return {
    ...(a.title !== undefined ? { title: a.title } : {}),
    ...(a.file !== undefined ? { file: a.file } : {}),
    ...(a.line !== undefined ? { startLine: a.line } : {}),
    ...(a.col !== undefined ? { startColumn: a.col } : {}),
  };
}
