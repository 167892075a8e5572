import { describe, expect, it } from "vitest";
import { rendererPool } from "./defaults.ts";
import type { HelmRenderRequest, HelmRenderResult } from "./helper.ts";
import type { HelmRenderer } from "./stage.ts";

/** A renderer whose answers the test releases by hand, recording what it was asked. */
function manual(name: string) {
  const asked: { request: HelmRenderRequest; answer: (r: HelmRenderResult) => void }[] = [];
  let closed = false;
  const renderer: HelmRenderer & { close(): Promise<void> } = {
    helm: (request) => new Promise((resolve) => asked.push({ request, answer: resolve })),
    close: async () => {
      closed = true;
    },
  };
  return { name, renderer, asked, closed: () => closed };
}

const request = (n: number) => ({ release: { n } }) as unknown as HelmRenderRequest;
/** A successful render of release `name` (no objects). */
const rendered = (name: string): HelmRenderResult => ({
  releaseName: name,
  namespace: "default",
  chart: { name: "c", version: "1.0.0", origin: "dir", cached: false, fetchMs: 0, renderMs: 0 },
  resources: [],
  warnings: [],
});
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("rendererPool: one flux-render per core behind one renderer", () => {
  it("spreads pipelined requests over every helper, at most `depth` each, the rest queued", async () => {
    const a = manual("a");
    const b = manual("b");
    const pool = rendererPool([a.renderer, b.renderer], 2);
    const answers = [0, 1, 2, 3, 4, 5].map((n) => pool.helm(request(n)));
    await tick();
    // Four sent (two per helper), two wait in the queue.
    expect(a.asked.map((x) => (x.request.release as { n: number }).n)).toEqual([0, 2]);
    expect(b.asked.map((x) => (x.request.release as { n: number }).n)).toEqual([1, 3]);
    // b answers first: the next queued request goes to b, not to the busy a.
    b.asked[0]?.answer(rendered("r1"));
    await tick();
    expect(b.asked.map((x) => (x.request.release as { n: number }).n)).toEqual([1, 3, 4]);
    expect(await answers[1]).toEqual(rendered("r1"));
    a.asked[0]?.answer(rendered("r0"));
    await tick();
    expect(a.asked.map((x) => (x.request.release as { n: number }).n)).toEqual([0, 2, 5]);
    for (const x of [...a.asked.slice(1), ...b.asked.slice(1)])
      x.answer(rendered(`r${(x.request.release as { n: number }).n}`));
    // Each caller gets its own request's answer.
    expect((await Promise.all(answers)).map((r) => r.releaseName)).toEqual([
      "r0",
      "r1",
      "r2",
      "r3",
      "r4",
      "r5",
    ]);
    await pool.close();
    expect([a.closed(), b.closed()]).toEqual([true, true]);
  });

  it("a failed render rejects its own request only, and the helper takes the next", async () => {
    const a = manual("a");
    const failing: HelmRenderer & { close(): Promise<void> } = {
      helm: () => Promise.reject(new Error("flux-render exited")),
      close: async () => {},
    };
    const pool = rendererPool([failing, a.renderer], 1);
    const first = pool.helm(request(0));
    const second = pool.helm(request(1));
    await expect(first).rejects.toThrow("flux-render exited");
    await tick();
    a.asked[0]?.answer(rendered("ok"));
    expect(await second).toEqual(rendered("ok"));
  });
});
