/**
 * What a load run measures and reports (`guest-relay load`): the engine (engine.ts) fills it in, the
 * reports (report.ts: the terminal table, JSON, the self-contained HTML page) only read it.
 */

/** Median, 95th and 99th percentiles and the maximum of a set of durations, in ms. */
export interface Percentiles {
  readonly count: number;
  readonly median: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** One step of one scenario, over every guest that ran it. */
export interface StepStats {
  /** `file:line`: unique per step. */
  readonly key: string;
  readonly scenario: string;
  /** The step as written in the file (`say: "hi"`). */
  readonly source: string;
  /** The step's kind (`say`, `waitForReplyContaining`, …). */
  readonly kind: string;
  /** Times the step ran (passed or failed). */
  readonly count: number;
  /** Failures by reason (`timeout`, `unexpected_reply`, `error:rate_limited`, …), most frequent first. */
  readonly failures: readonly { readonly reason: string; readonly count: number }[];
  /**
   * For a step that sends (say, chooseQuickReply): from the send to the bot's (or agent's) first message
   * after it. Absent for steps that send nothing.
   */
  readonly firstReply?: Percentiles;
  /** How long the step took, start to end. */
  readonly duration: Percentiles;
}

/** One second (or `bucketMs`) of the run. */
export interface TimeBucket {
  /** Start of the bucket, ms from the run's start. */
  readonly atMs: number;
  /** Guests running a scenario at the end of the bucket. */
  readonly active: number;
  /** Steps that ended in the bucket, passed or failed. */
  readonly steps: number;
  /** Steps that failed in the bucket. */
  readonly errors: number;
  /** First-reply times that ended in the bucket; absent when none did. */
  readonly firstReply?: Percentiles;
}

export interface ThresholdResult {
  /** `max-p95` or `max-error-rate`. */
  readonly name: string;
  readonly limit: number;
  readonly actual: number;
  readonly passed: boolean;
  /** What the figure is: "p95 of the time to the first reply, ms", "failed steps / steps". */
  readonly what: string;
}

export interface LoadReport {
  /** ISO time the run started. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Why the run stopped: `duration`, `iterations`, `interrupted` (Ctrl+C), `deadline`. */
  readonly stoppedBy: string;
  /** What was asked, as the user gave it (no token). */
  readonly settings: {
    readonly files: readonly string[];
    readonly target: string;
    readonly guests: number;
    readonly rampPerSecond: number;
    readonly durationMs?: number;
    readonly iterations?: number;
    readonly thinkMs: { readonly min: number; readonly max: number };
  };
  readonly totals: {
    /** Guests started (at most `guests`). */
    readonly guests: number;
    /** Scenario runs (iterations) that ended, = passed + failed; a run cut short by a stop is neither. */
    readonly iterations: number;
    readonly passed: number;
    readonly failed: number;
    readonly steps: number;
    readonly failedSteps: number;
    /** failedSteps / steps (0 with no steps). */
    readonly errorRate: number;
    /** Sends the relay refused as too fast (`rate_limited`): waited out and sent again, not failures. */
    readonly rateLimited: number;
    /** Sessions started, and ended by the run (every started one, unless the stack went away). */
    readonly sessionsStarted: number;
    readonly sessionsEnded: number;
  };
  /** Every step's figures, in file order. */
  readonly steps: readonly StepStats[];
  /** Over time, `bucketMs` apart. */
  readonly bucketMs: number;
  readonly timeline: readonly TimeBucket[];
  readonly thresholds: readonly ThresholdResult[];
  /** What the generator itself cost, so that a user can size the machine that runs it. */
  readonly generator: {
    /** CPU time of this process per guest-second of activity, ms. */
    readonly cpuMsPerGuestSecond: number;
    /** Resident memory at the peak of the run, bytes, and its growth per active guest. */
    readonly peakRssBytes: number;
    readonly rssBytesPerGuest: number;
    /** Most guests active at once. */
    readonly peakActive: number;
  };
}

/** What the live progress line shows, every second of the run. */
export interface ProgressSnapshot {
  readonly elapsedMs: number;
  readonly active: number;
  readonly started: number;
  readonly target: number;
  readonly stepsPerSecond: number;
  readonly errors: number;
  /** The p95 of the recent first replies; absent before the first one. */
  readonly p95Ms?: number;
}
