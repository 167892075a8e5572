import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A scratch git repository for diff tests (and the Action's diff integration test). */
export interface ScratchRepo {
  dir: string;
  write(files: Record<string, string | null>): void;
  commit(message: string): string;
  git(...args: string[]): string;
  remove(): void;
}

/** Creates a real git repository in os.tmpdir() with a fixed identity and `main` as branch. */
export function createScratchRepo(prefix = "haos-tasks-diff-repo-"): ScratchRepo {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Test",
        GIT_AUTHOR_EMAIL: "test@example.invalid",
        GIT_COMMITTER_NAME: "Test",
        GIT_COMMITTER_EMAIL: "test@example.invalid",
      },
    }).trim();
  git("init", "--quiet", "--initial-branch=main");
  git("config", "commit.gpgsign", "false");
  return {
    dir,
    git,
    write(files) {
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(dir, file);
        if (content === null) {
          rmSync(target, { recursive: true, force: true });
          continue;
        }
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
    },
    commit(message) {
      git("add", "-A");
      git("commit", "--quiet", "--allow-empty", "-m", message);
      return git("rev-parse", "HEAD");
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small Flux-style app: a base with a ConfigMap and a Secret, and a prod overlay using it. */
export const sampleApp = {
  "apps/demo/base/kustomization.yaml": "resources:\n  - configmap.yaml\n  - secret.yaml\n",
  "apps/demo/base/configmap.yaml":
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: demo\ndata:\n  mode: blue\n  level: '1'\n",
  "apps/demo/base/secret.yaml":
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-credentials\n  namespace: demo\nstringData:\n  password: hunter2-base\n  user: admin\n",
  "apps/demo/overlays/prod/kustomization.yaml": "resources:\n  - ../../base\ncommonLabels:\n  env: prod\n",
  "README.md": "# scratch\n",
} as const;
