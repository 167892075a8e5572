import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../kube/client.ts";
import type { ClusterSnapshot } from "../../kube/store.ts";
import { evaluateHelmRelease, releasesPhase } from "./releases.ts";
import type { PhaseInput } from "./types.ts";

function release(generation: number, status: Record<string, unknown>, retries = 3): KubeObject {
  return {
    metadata: { name: "vm-instance-haos", namespace: "tenant-root", generation },
    spec: { install: { remediation: { retries } } },
    status,
  };
}

const app: KubeObject = { metadata: { name: "haos", namespace: "tenant-root" } };

const stalled = (og: number) => ({
  type: "Stalled",
  status: "True",
  reason: "RetriesExceeded",
  message: "Failed to install after 4 attempt(s)",
  observedGeneration: og,
});
const installFailed = (og: number) => ({
  type: "Ready",
  status: "False",
  reason: "InstallFailed",
  message: "preference haos not found",
  observedGeneration: og,
});

/** A HelmRelease as cozystack-api writes it: RetryOnFailure install and upgrade. */
function cozyRelease(generation: number, status: Record<string, unknown>, values: unknown = {}): KubeObject {
  const strategy = { name: "RetryOnFailure", retryInterval: "30s" };
  return {
    metadata: { name: "vm-instance-haos", namespace: "tenant-root", generation },
    spec: { install: { strategy }, upgrade: { strategy }, values },
    status,
  };
}
const cond = (type: string, status: string, reason: string, og: number, message = "") => ({
  type,
  status,
  reason,
  message,
  observedGeneration: og,
});
const noDisk =
  "execution error at (vm-instance/templates/vm.yaml:72:16): Specified disk not exists in cluster: haos";

describe("evaluateHelmRelease under RetryOnFailure (CozyStack)", () => {
  it.each([
    {
      name: "InstallFailed with status.failures counting up is retrying, not final",
      hr: cozyRelease(1, {
        observedGeneration: -1,
        failures: 5,
        conditions: [
          cond("Ready", "False", "InstallFailed", 1, noDisk),
          cond("Released", "False", "InstallFailed", 1, noDisk),
        ],
      }),
      state: "waiting",
    },
    {
      name: "Ready flapping to Unknown between retries while Released stays False is still retrying",
      hr: cozyRelease(1, {
        observedGeneration: -1,
        failures: 2,
        conditions: [
          cond("Ready", "Unknown", "Progressing", 1, "Running 'install' action with timeout of 10m0s"),
          cond("Released", "False", "InstallFailed", 1, noDisk),
        ],
      }),
      state: "waiting",
    },
    {
      name: "Ready=True and Released=True/InstallSucceeded at the current generation is done",
      hr: cozyRelease(1, {
        observedGeneration: 1,
        conditions: [
          cond("Ready", "True", "InstallSucceeded", 1),
          cond("Released", "True", "InstallSucceeded", 1),
        ],
      }),
      state: "done",
    },
    {
      name: "Ready=True before status.observedGeneration reaches the generation waits",
      hr: cozyRelease(2, {
        observedGeneration: 1,
        conditions: [
          cond("Ready", "True", "UpgradeSucceeded", 2),
          cond("Released", "True", "UpgradeSucceeded", 2),
        ],
      }),
      state: "waiting",
    },
    {
      name: "a new generation (spec change) with the old Ready=True waits for the upgrade",
      hr: cozyRelease(2, {
        observedGeneration: 1,
        conditions: [
          cond("Ready", "True", "InstallSucceeded", 1),
          cond("Released", "True", "InstallSucceeded", 1),
        ],
      }),
      state: "waiting",
    },
    {
      name: "Released=False/UpgradeFailed for the current generation is retrying",
      hr: cozyRelease(2, {
        observedGeneration: 1,
        failures: 1,
        conditions: [
          cond("Ready", "False", "UpgradeFailed", 2),
          cond("Released", "False", "UpgradeFailed", 2),
        ],
      }),
      state: "waiting",
    },
  ])("$name", ({ hr, state }) => {
    expect(evaluateHelmRelease(hr, app, "tenant-root/vm-instance-haos").state).toBe(state);
  });

  it("reports the failures count and the retry interval, quoting Released", () => {
    const verdict = evaluateHelmRelease(
      cozyRelease(1, {
        failures: 3,
        conditions: [
          cond("Ready", "Unknown", "Progressing", 1, "Running 'install' action"),
          cond("Released", "False", "InstallFailed", 1, noDisk),
        ],
      }),
      app,
      "tenant-root/vm-instance-haos",
    );
    expect(verdict.detail).toBe(
      `HelmRelease tenant-root/vm-instance-haos retrying every 30s (3 failure(s), RetryOnFailure): Released=False (InstallFailed): ${noDisk}`,
    );
  });

  it("waits while the release's values lack the committed manifest's spec (defaults may add keys)", () => {
    const ready = {
      observedGeneration: 1,
      conditions: [
        cond("Ready", "True", "InstallSucceeded", 1),
        cond("Released", "True", "InstallSucceeded", 1),
      ],
    };
    const committed = { externalPorts: [8123, 8124] };
    const stale = cozyRelease(1, ready, { externalPorts: [8123], external: true });
    const current = cozyRelease(1, ready, { externalPorts: [8123, 8124], external: true });
    expect(evaluateHelmRelease(stale, undefined, "x", committed).state).toBe("waiting");
    expect(evaluateHelmRelease(current, undefined, "x", committed).state).toBe("done");
  });

  it("waits while the release does not carry the app object's spec", () => {
    const ready = {
      observedGeneration: 1,
      conditions: [
        cond("Ready", "True", "InstallSucceeded", 1),
        cond("Released", "True", "InstallSucceeded", 1),
      ],
    };
    const withSpec = { ...app, spec: { externalPorts: [8123, 8124] } };
    expect(evaluateHelmRelease(cozyRelease(1, ready, { externalPorts: [8123] }), withSpec, "x").state).toBe(
      "waiting",
    );
    expect(
      evaluateHelmRelease(cozyRelease(1, ready, { externalPorts: [8123, 8124] }), withSpec, "x").state,
    ).toBe("done");
  });
});

describe("evaluateHelmRelease", () => {
  it.each([
    {
      name: "Stalled at the current generation fails",
      hr: release(3, {
        observedGeneration: 3,
        installFailures: 4,
        conditions: [stalled(3), installFailed(3)],
      }),
      state: "failed",
    },
    {
      name: "Stalled from the previous generation waits (the push that fixes it)",
      hr: release(3, {
        observedGeneration: 2,
        installFailures: 4,
        conditions: [stalled(2), installFailed(2)],
      }),
      state: "waiting",
    },
    {
      name: "InstallFailed past the retries at the current generation fails",
      hr: release(3, { observedGeneration: 3, installFailures: 4, conditions: [installFailed(3)] }),
      state: "failed",
    },
    {
      name: "InstallFailed past the retries from the previous generation waits",
      hr: release(3, { observedGeneration: 2, installFailures: 4, conditions: [installFailed(2)] }),
      state: "waiting",
    },
    {
      name: "a stale condition without its own observedGeneration falls back to status.observedGeneration",
      hr: release(3, {
        observedGeneration: 2,
        installFailures: 4,
        conditions: [{ type: "Ready", status: "False", reason: "InstallFailed" }],
      }),
      state: "waiting",
    },
    {
      name: "InstallFailed within the retries waits (retrying)",
      hr: release(3, { observedGeneration: 3, installFailures: 1, conditions: [installFailed(3)] }),
      state: "waiting",
    },
    {
      name: "Ready=True at the current generation is done",
      hr: release(3, {
        observedGeneration: 3,
        conditions: [{ type: "Ready", status: "True", reason: "InstallSucceeded", observedGeneration: 3 }],
      }),
      state: "done",
    },
    {
      name: "Ready=True from the previous generation waits",
      hr: release(3, {
        observedGeneration: 2,
        conditions: [{ type: "Ready", status: "True", reason: "InstallSucceeded", observedGeneration: 2 }],
      }),
      state: "waiting",
    },
  ])("$name", ({ hr, state }) => {
    expect(evaluateHelmRelease(hr, app, "tenant-root/vm-instance-haos").state).toBe(state);
  });

  it("says a stale failure is from an older generation", () => {
    const verdict = evaluateHelmRelease(
      release(3, { observedGeneration: 2, installFailures: 4, conditions: [stalled(2), installFailed(2)] }),
      app,
      "x",
    );
    expect(verdict.detail).toContain("observed at generation 2, spec is at 3");
  });
});

describe("releasesPhase looks ahead while helm-controller installs", () => {
  // On real Flux the vm-instance install waits for the VirtualMachine to become Ready, so the
  // disk import and the VM run while the releases phase is still waiting.
  const key = (kind: string, name: string) => `${kind}/tenant-root/${name}`;
  const installing = (name: string): KubeObject => ({
    metadata: { name, namespace: "tenant-root", generation: 1 },
    spec: { values: {} },
    status: {
      observedGeneration: -1,
      conditions: [
        {
          type: "Ready",
          status: "Unknown",
          reason: "Progressing",
          message: "Running 'install' action with timeout of 10m0s",
        },
      ],
    },
  });
  const dv = (status: Record<string, unknown>): KubeObject => ({
    metadata: { name: "vm-disk-haos", namespace: "tenant-root", uid: "u1" },
    status,
  });
  const targets = {
    disks: [{ app: { namespace: "tenant-root", name: "haos" }, rendered: "vm-disk-haos", spec: {} }],
    instances: [],
  } as unknown as PhaseInput["targets"];
  const run = (disk: KubeObject) => {
    const snapshot: ClusterSnapshot = {
      objects: new Map([
        [key("helmRelease", "vm-disk-haos"), installing("vm-disk-haos")],
        [key("dataVolume", "vm-disk-haos"), disk],
      ]),
    };
    return releasesPhase.evaluate({
      snapshot,
      baseline: { objects: new Map() },
      targets,
      target: "a".repeat(40),
      relation: () => undefined,
      importRestartLimit: 3,
    });
  };

  it("shows the import's progress beside the release that is installing", () => {
    const verdict = run(dv({ phase: "ImportInProgress", progress: "12.00%", conditions: [] }));
    expect(verdict.state).toBe("waiting");
    expect(verdict.detail).toMatch(
      /Running 'install'.*; meanwhile DataVolume tenant-root\/vm-disk-haos ImportInProgress 12\.00%/,
    );
  });

  it("fails at once on an import that keeps failing, not at helm's timeout", () => {
    const verdict = run(
      dv({
        phase: "ImportInProgress",
        progress: "N/A",
        restartCount: 3,
        conditions: [{ type: "Running", status: "False", reason: "Error", message: "got 404" }],
      }),
    );
    expect(verdict.state).toBe("failed");
    expect(verdict.detail).toContain("got 404");
    expect(verdict.detail).toContain("(while the releases install)");
  });
});
