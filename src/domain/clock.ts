/**
 * Time, injected. Domain functions never read the system clock: callers pass `now` (epoch ms) or a
 * Clock, so every behaviour can be replayed in tests with a fake clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock, for the composition roots (worker, Lambdas, local mode, the emulators) to inject. It
 * lives beside the interface so that there is one copy, not one per entry point; nothing in src/domain
 * calls it (test/unit/architecture/domain-purity.test.ts allows this object and nothing else).
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): unknown => setTimeout(callback, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
