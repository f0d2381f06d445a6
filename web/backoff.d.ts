/** Types for web/backoff.js, so TypeScript tests can import the page's own module. */
export declare const RECONNECT: Readonly<{
  baseMs: number;
  capMs: number;
  factor: number;
  minUptimeMs: number;
}>;
export declare function reconnectDelay(attempt: number, random?: () => number): number;
export interface ReconnectBackoff {
  readonly attempt: number;
  opened(): void;
  closed(): void;
  next(): number;
}
export declare function reconnectBackoff(options?: {
  now?: () => number;
  random?: () => number;
}): ReconnectBackoff;
