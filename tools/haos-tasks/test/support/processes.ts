import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import net from "node:net";

/** A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race with other binders is accepted). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logPath: string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Starts a server process whose output goes to a log file, plus a detached reaper that kills it
 * if this test process dies without calling stop() — so a crashed or killed vitest worker never
 * leaves etcd or kube-apiserver behind. With `processGroup`, the server leads its own process
 * group and every signal (stop's and the reaper's) goes to the whole group, children included.
 */
export function startManaged(
  name: string,
  command: string,
  args: string[],
  logPath: string,
  options: { env?: NodeJS.ProcessEnv; processGroup?: boolean } = {},
): ManagedProcess {
  const log = createWriteStream(logPath, { flags: "a" });
  const group = options.processGroup === true;
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    detached: group,
    ...(options.env ? { env: options.env } : {}),
  });
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (group && child.pid) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  // Two sources into one log: neither may end it (the first to close would, by default, and the
  // other's last lines would then be a "write after end"); stop() ends it once both are closed.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const reaper = spawn(
    "sh",
    [
      "-c",
      'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -TERM -- "$3" 2>/dev/null; sleep 3; kill -KILL -- "$3" 2>/dev/null; exit 0',
      "reaper",
      String(process.pid),
      String(child.pid),
      group ? `-${child.pid}` : String(child.pid),
    ],
    { detached: true, stdio: "ignore" },
  );
  reaper.unref();
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signal("SIGTERM");
        const timer = setTimeout(() => signal("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      if (group) signal("SIGKILL"); // whatever of the group outlived its leader
      try {
        if (reaper.pid) process.kill(reaper.pid, "SIGKILL");
      } catch {
        // the reaper already exited
      }
      await closed;
      log.end();
    })();
    return stopping;
  };
  return { name, child, logPath, stop, exited };
}
