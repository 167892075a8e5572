/**
 * How a validate run overlaps its stages. The critical path is: the kustomize builds (Go
 * helpers, one per core) → the objects → kubeconform (its own process) → the findings. Node's own
 * work that nothing on that path waits for — the style rules over every file — fills the gaps:
 * it runs while the helpers build, pauses for the build's tail (the last roots, whose answers
 * must be read at once; a small repository has only those) and the start of the schema check,
 * and goes on while kubeconform checks. Built from plain promises and an AbortSignal.
 */

/**
 * Work of many small synchronous steps, run in windows: `run(signal)` takes steps until they are
 * done or the signal is aborted, letting the event loop run once `sliceMs` of work has passed
 * (so child processes are fed and read; nothing is paid otherwise); a later `run()` goes on
 * where the last one stopped. `drain()` takes every step at once (nothing to overlap with).
 */
export class SteppedWork {
  readonly #steps: Iterator<unknown>;
  readonly #sliceMs: number;
  #done = false;

  constructor(steps: Iterable<unknown>, sliceMs = 5) {
    this.#steps = steps[Symbol.iterator]();
    this.#sliceMs = sliceMs;
  }

  async run(signal?: AbortSignal): Promise<void> {
    let last = performance.now();
    while (!this.#done && !signal?.aborted) {
      this.#done = this.#steps.next().done === true;
      if (performance.now() - last >= this.#sliceMs) {
        await new Promise((resolve) => setImmediate(resolve));
        last = performance.now();
      }
    }
  }

  drain(): void {
    while (!this.#done) this.#done = this.#steps.next().done === true;
  }
}

/** Resolves when the promise settles, fulfilled or rejected (its outcome is awaited elsewhere). */
export function settled(promise: Promise<unknown>): Promise<void> {
  return promise.then(
    () => {},
    () => {},
  );
}

/**
 * A promise started now and awaited later (a helper's start, a stage running beside others): its
 * rejection is reported where it is awaited, not as unhandled in between.
 */
export function startedEarly<T>(promise: Promise<T>): Promise<T> {
  void settled(promise);
  return promise;
}

/** The signal the build aborts at its tail: with at most `tail` roots left (or at its end). */
export function buildTail(tail: number): {
  signal: AbortSignal;
  /** The build's progress: `left` roots still to build. */
  left(left: number): void;
  reached(): void;
} {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    left: (left) => {
      if (left <= tail) controller.abort();
    },
    reached: () => controller.abort(),
  };
}
