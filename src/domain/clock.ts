/**
 * Time, injected. The domain never reads the system clock: callers pass `now` (epoch ms) or a Clock,
 * so every behaviour can be replayed in tests with a fake clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
