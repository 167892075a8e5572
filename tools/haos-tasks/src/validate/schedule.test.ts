import { describe, expect, it } from "vitest";
import { buildTail, SteppedWork, settled, startedEarly } from "./schedule.ts";

function* counted(log: number[], n: number): Generator<void> {
  for (let i = 0; i < n; i++) {
    log.push(i);
    yield;
  }
}

describe("SteppedWork", () => {
  it("stops at an aborted signal and goes on from there in the next window", async () => {
    const log: number[] = [];
    const work = new SteppedWork(counted(log, 5));
    const stop = new AbortController();
    stop.abort();
    await work.run(stop.signal);
    expect(log).toEqual([]);
    await work.run();
    expect(log).toEqual([0, 1, 2, 3, 4]);
    await work.run();
    expect(log).toEqual([0, 1, 2, 3, 4]);
  });

  it("lets the event loop run once a slice of work has passed, and stops at an abort seen there", async () => {
    const log: number[] = [];
    const slow = function* () {
      for (let i = 0; i < 100; i++) {
        const until = performance.now() + 2;
        while (performance.now() < until);
        log.push(i);
        yield;
      }
    };
    const work = new SteppedWork(slow(), 5);
    const stop = new AbortController();
    setImmediate(() => stop.abort());
    await work.run(stop.signal);
    // Stopped after the first slice (about 3 steps of 2 ms), long before the 100 steps.
    expect(log.length).toBeGreaterThan(0);
    expect(log.length).toBeLessThan(20);
    work.drain();
    expect(log).toHaveLength(100);
  });
});

describe("buildTail", () => {
  it("aborts once at most `tail` roots are left, or when reached", () => {
    const tail = buildTail(2);
    tail.left(5);
    expect(tail.signal.aborted).toBe(false);
    tail.left(2);
    expect(tail.signal.aborted).toBe(true);
    const end = buildTail(2);
    end.reached();
    expect(end.signal.aborted).toBe(true);
  });
});

describe("settled / startedEarly", () => {
  it("settles with either outcome, and a rejection started early is seen where it is awaited", async () => {
    await expect(settled(Promise.reject(new Error("x")))).resolves.toBeUndefined();
    const failing = startedEarly(Promise.reject(new Error("later")));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(failing).rejects.toThrow("later");
  });
});
