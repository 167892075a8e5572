import type { ChildProcess } from "node:child_process";

/**
 * Every child process haos-tasks starts (kustomize-build helpers, kubeconform, kubectl, git)
 * belongs to it: when the parent ends — normally, by an error, or by SIGTERM/SIGINT/SIGHUP sent to
 * its pid alone (what `timeout`, a CI runner's cancel or a supervisor sends) — the children are
 * killed with it. Without this they were re-parented to PID 1 and kept running (a helper grew
 * from 4.5 to 12.3 GB after validate had exited). SIGKILL of the parent cannot be caught: the
 * kustomize-build helper watches its parent itself (tools/bootstrap/go/kustomize-build).
 */
const children = new Set<ChildProcess>();
const signals = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
let installed = false;

/** Kills every child still running (SIGKILL: a helper deep in a build would not read a TERM soon). */
export function killChildren(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => killChildren());
  for (const signal of signals) {
    const onSignal = (): void => {
      killChildren();
      // The signal's own ending (exit status 128+n) once the children are gone, unless someone
      // else handles it: re-raised with this listener removed.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Registers a child so it dies with this process; returns it. */
export function ownChild<T extends ChildProcess>(child: T): T {
  install();
  children.add(child);
  child.once("exit", () => children.delete(child));
  child.once("error", () => children.delete(child));
  return child;
}
