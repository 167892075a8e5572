import { describe, expect, it } from "vitest";
import { HintedError, isSystemError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import {
  KubeApiFailingError,
  KubeForbiddenError,
  KubeNotKubernetesError,
  KubeStartTimeoutError,
  KubeStatusError,
  KubeUnreachableError,
} from "./kube/errors.ts";
import { ReleaseError } from "./release/errors.ts";

// The class carries the exit code: the CLI's edge reads `exitCode`, no mapping of kinds.
describe("HintedError", () => {
  it("has a message, a hint, exit 2 by default and an optional cause", () => {
    const cause = new Error("inner");
    const error = new HintedError("bad", "fix it", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: "bad", hint: "fix it", exitCode: ExitCode.usage, cause });
    expect(new HintedError("bad", "fix").cause).toBeUndefined();
  });

  it("a release error's kind is its exit code", () => {
    expect(new ReleaseError("m", "h").exitCode).toBe(ExitCode.failure);
    expect(new ReleaseError("m", "h", "usage").exitCode).toBe(ExitCode.usage);
    expect(new ReleaseError("m", "h", "forbidden").exitCode).toBe(ExitCode.forbidden);
    expect(new ReleaseError("m", "h", "unreachable").exitCode).toBe(ExitCode.unreachable);
  });

  it("the Kubernetes errors: forbidden 4, unreachable 5, a start past the deadline 3", () => {
    const rule = { verb: "list", resource: "pods", namespace: "x" } as const;
    expect(new KubeForbiddenError(rule, 403, "").exitCode).toBe(ExitCode.forbidden);
    expect(new KubeUnreachableError("https://k", "ECONNREFUSED").exitCode).toBe(ExitCode.unreachable);
    expect(new KubeNotKubernetesError("https://k", "https://k/api", "HTML").exitCode).toBe(
      ExitCode.unreachable,
    );
    const status = new KubeStatusError(rule, 503, "down");
    expect(status.exitCode).toBe(ExitCode.usage);
    expect(new KubeApiFailingError("https://k", status, 60_000).exitCode).toBe(ExitCode.unreachable);
    expect(new KubeStartTimeoutError(1000, []).exitCode).toBe(ExitCode.timeout);
  });

  it("isSystemError tells Node's I/O errors from bugs", () => {
    expect(isSystemError(Object.assign(new Error("ENOENT: x"), { code: "ENOENT", syscall: "open" }))).toBe(
      true,
    );
    expect(isSystemError(new TypeError("x is not a function"))).toBe(false);
    expect(isSystemError(Object.assign(new Error("no syscall"), { code: "ERR_X" }))).toBe(false);
    expect(isSystemError("ENOENT")).toBe(false);
  });
});
