import { describe, expect, it } from "vitest";
import { input, OLD, T } from "../../../test/support/verify-phases.ts";
import type { KubeObject } from "../../kube/client.ts";
import { evaluateSource } from "./source.ts";

function repo(generation: number, status: Record<string, unknown>): KubeObject {
  return { metadata: { name: "setup", namespace: "flux-system", generation }, status };
}

const stalled = (og: number) => ({
  type: "Stalled",
  status: "True",
  reason: "URLInvalid",
  observedGeneration: og,
});

describe("evaluateSource", () => {
  it.each([
    {
      name: "Stalled at the current generation fails",
      gr: repo(5, {
        observedGeneration: 5,
        artifact: { revision: `main@sha1:${OLD}` },
        conditions: [stalled(5)],
      }),
      state: "failed",
    },
    {
      name: "Stalled from the previous generation waits",
      gr: repo(5, {
        observedGeneration: 4,
        artifact: { revision: `main@sha1:${OLD}` },
        conditions: [stalled(4)],
      }),
      state: "waiting",
    },
    {
      name: "artifact at the target is done",
      gr: repo(5, { observedGeneration: 5, artifact: { revision: `main@sha1:${T}` } }),
      state: "done",
    },
    {
      name: "artifact at another commit waits",
      gr: repo(5, { observedGeneration: 5, artifact: { revision: `main@sha1:${OLD}` } }),
      state: "waiting",
    },
  ])("$name", ({ gr, state }) => {
    expect(evaluateSource(gr, input).state).toBe(state);
  });
});
