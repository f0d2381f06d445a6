/**
 * The load engine of `guest-relay load`: many simulated guests, each running scenarios (the YAML of
 * `guest-relay test`) one after another through the scenario runner's own steps, started at a ramp, with
 * think time between steps; it measures every step, the time from each message a guest sends to the
 * bot's (or agent's) first reply, and what the run costs this process.
 *
 * It keeps to the limits it simulates: a guest sends at most 2 messages a second (Genesys' limit per
 * session, docs/genesys-guest-api.md), a `rate_limited` refusal is waited out (`retryAfterMs`) and sent
 * again, and counted; every session it starts is ended when the run stops, Ctrl+C included.
 */
import { setMaxListeners } from 'node:events';
import { sleep as abortableSleep } from '../../src/domain/backoff.js';
import { systemClock } from '../../src/domain/clock.js';
import { quantile } from '../../src/domain/quantile.js';
import { Conversation, StepFailure } from '../scenarios/conversation.js';
import { runStep, type Target } from '../scenarios/runner.js';
import type { PlacedStep, Scenario } from '../scenarios/scenario.js';
import type {
  LoadReport,
  Percentiles,
  ProgressSnapshot,
  StepStats,
  ThresholdResult,
  TimeBucket,
} from './model.js';

/** Genesys takes at most 2 messages a second per session: a guest's sends are at least this far apart. */
export const MIN_SEND_GAP_MS = 500;
/** How often a `rate_limited` send is tried again before the step fails. */
const MAX_RATE_LIMITED_RETRIES = 5;
/** Waited out when a `rate_limited` refusal names no time. */
const DEFAULT_RETRY_AFTER_MS = 1_000;
/** After `--duration`, running scenarios may finish within this long; then they are interrupted. */
export const GRACEFUL_STOP_MS = 30_000;
/** How long ending a session may take when the run stops. */
const END_WITHIN_MS = 5_000;

export interface LoadOptions {
  /** Scripted scenarios (a generative one is refused before the run). */
  readonly scenarios: readonly Scenario[];
  /** Where and as whom (the runner's Target: URL, token, participant data). */
  readonly target: Target;
  /** Guests at most, each running scenarios one after another. */
  readonly guests: number;
  /** New guests a second until `guests` have started. */
  readonly rampPerSecond: number;
  /** Stop starting scenarios after this long (running ones get GRACEFUL_STOP_MS to finish). */
  readonly durationMs?: number;
  /** Scenarios each guest runs; with neither this nor `durationMs`, one. */
  readonly iterations?: number;
  /** Pause before each step after the first, drawn uniformly from [min, max]. */
  readonly thinkMs: { readonly min: number; readonly max: number };
  readonly thresholds: { readonly maxP95Ms?: number; readonly maxErrorRate?: number };
  /** What the report says was asked (no token). */
  readonly settings: LoadReport['settings'];
  /** Aborted: stop now (Ctrl+C): no new scenario, running ones interrupted, every session ended. */
  readonly signal?: AbortSignal;
  /** Called every `bucketMs` with what a progress line shows. */
  readonly onProgress?: (snapshot: ProgressSnapshot) => void;
  readonly bucketMs?: number;
  readonly random?: () => number;
  /** Longest the whole run may take (a safety net); default duration + grace, or an hour. */
  readonly deadlineMs?: number;
}

/** One step run by one guest. */
interface StepRecord {
  readonly key: string;
  readonly endedAt: number;
  readonly durationMs: number;
  /** Absent: passed. */
  readonly reason?: string;
}

/** A reply timed for a step that sent something. */
interface ReplyRecord {
  readonly key: string;
  readonly arrivedAt: number;
  readonly ms: number;
}

/** A send step waiting for its first reply. */
interface Probe {
  readonly key: string;
  readonly sentAt: number;
  /** The newest sequenceId before the send: the guest's entry is the first guest entry after it. */
  readonly before: number;
}

const SENDS: ReadonlySet<string> = new Set(['say', 'chooseQuickReply']);
const INTERRUPTED = 'interrupted';

function stepKey(scenario: Scenario, placed: PlacedStep): string {
  return `${scenario.file}:${placed.line}`;
}

function percentiles(values: readonly number[]): Percentiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] as number,
  };
}

/** Waits `ms`, or less when `signal` aborts (the caller looks at the signal next). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return abortableSleep(ms, { signal, clock: systemClock }).catch(() => undefined);
}

/** Runs the load; resolves with the report once every guest has stopped and every session has ended. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  if (options.scenarios.length === 0) throw new RangeError('no scenarios to run');
  const random = options.random ?? Math.random;
  const bucketMs = options.bucketMs ?? 1_000;
  const started = Date.now();
  const cpuAtStart = process.cpuUsage();
  const rssAtStart = process.memoryUsage.rss();
  const iterationsPerGuest = options.iterations ?? (options.durationMs === undefined ? 1 : undefined);

  // `stop` ends the run at once (Ctrl+C, the deadline); `enough` stops new scenarios (the duration).
  const stop = new AbortController();
  const enough = new AbortController();
  // Every waiting guest listens to both (think time, the ramp): as many listeners as guests, by design.
  setMaxListeners(0, stop.signal, enough.signal);
  let stoppedBy = options.durationMs === undefined ? 'iterations' : 'duration';
  const onAbort = (): void => {
    stoppedBy = INTERRUPTED;
    enough.abort();
    stop.abort();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timers: NodeJS.Timeout[] = [];
  if (options.durationMs !== undefined) {
    timers.push(
      setTimeout(() => {
        enough.abort();
        timers.push(setTimeout(() => stop.abort(), GRACEFUL_STOP_MS));
      }, options.durationMs),
    );
  }
  const deadlineMs =
    options.deadlineMs ??
    (options.durationMs === undefined ? 60 * 60 * 1000 : options.durationMs + GRACEFUL_STOP_MS + 10_000);
  timers.push(
    setTimeout(() => {
      if (stoppedBy !== INTERRUPTED) stoppedBy = 'deadline';
      enough.abort();
      stop.abort();
    }, deadlineMs),
  );

  const steps: StepRecord[] = [];
  const replies: ReplyRecord[] = [];
  const activeSamples: { at: number; active: number }[] = [];
  const live = new Set<Conversation>();
  let active = 0;
  let peakActive = 0;
  let guestsStarted = 0;
  let iterations = 0;
  let passed = 0;
  let failed = 0;
  let rateLimited = 0;
  let sessionsStarted = 0;
  let sessionsEnded = 0;
  let peakRss = rssAtStart;
  /** Guest-milliseconds of activity, for the generator's CPU per guest-second. */
  let activeMs = 0;
  let activeSince = started;
  const setActive = (delta: number): void => {
    const now = Date.now();
    activeMs += active * (now - activeSince);
    activeSince = now;
    active += delta;
    peakActive = Math.max(peakActive, active);
  };

  let lastProgress = started;
  let stepsAtLastProgress = 0;
  const sample = setInterval(() => {
    const now = Date.now();
    activeSamples.push({ at: now, active });
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (options.onProgress !== undefined) {
      const recent = replies.filter((r) => r.arrivedAt > now - 10_000).map((r) => r.ms);
      const p95 = percentiles(recent)?.p95;
      options.onProgress({
        elapsedMs: now - started,
        active,
        started: guestsStarted,
        target: options.guests,
        stepsPerSecond: ((steps.length - stepsAtLastProgress) * 1000) / Math.max(1, now - lastProgress),
        errors: steps.filter((s) => s.reason !== undefined).length,
        ...(p95 === undefined ? {} : { p95Ms: p95 }),
      });
      lastProgress = now;
      stepsAtLastProgress = steps.length;
    }
  }, bucketMs);

  /**
   * One scenario, start to end; the session is always ended. `cut`: the run stopped it before it could
   * pass or fail (neither is counted).
   */
  const iteration = async (scenario: Scenario): Promise<'passed' | 'failed' | 'cut'> => {
    const conversation = new Conversation(options.target.url, options.target.token);
    live.add(conversation);
    if (stop.signal.aborted) conversation.interrupt(new StepFailure('the run stopped', INTERRUPTED));
    const probes: Probe[] = [];
    let lastSendAt = 0;
    try {
      const connectStarted = Date.now();
      try {
        await conversation.start({
          ...(scenario.deploymentId === undefined ? {} : { deploymentId: scenario.deploymentId }),
          ...(scenario.region === undefined ? {} : { region: scenario.region }),
          ...(scenario.guestInfo === undefined ? {} : { guestInfo: scenario.guestInfo }),
        });
        sessionsStarted++;
        steps.push({
          key: `${scenario.file}:${scenario.line}`,
          endedAt: Date.now(),
          durationMs: Date.now() - connectStarted,
        });
      } catch (error) {
        const reason = error instanceof StepFailure ? error.reason : 'connection';
        if (reason !== INTERRUPTED && !stop.signal.aborted) {
          steps.push({
            key: `${scenario.file}:${scenario.line}`,
            endedAt: Date.now(),
            durationMs: Date.now() - connectStarted,
            reason,
          });
          return 'failed';
        }
        return 'cut';
      }
      for (const [index, placed] of scenario.steps.entries()) {
        if (index > 0)
          await sleep(
            options.thinkMs.min + random() * (options.thinkMs.max - options.thinkMs.min),
            stop.signal,
          );
        if (stop.signal.aborted) return 'cut';
        const key = stepKey(scenario, placed);
        const sends = SENDS.has(placed.step.kind);
        if (sends) await sleep(lastSendAt + MIN_SEND_GAP_MS - Date.now(), stop.signal);
        const stepStarted = Date.now();
        let retries = 0;
        for (;;) {
          const before = conversation.lastSeq;
          const sentAt = Date.now();
          try {
            await runStep(conversation, placed, placed.timeoutMs ?? scenario.stepTimeoutMs, options.target);
            if (sends) {
              lastSendAt = sentAt;
              probes.push({ key, sentAt, before });
            }
            steps.push({ key, endedAt: Date.now(), durationMs: Date.now() - stepStarted });
            break;
          } catch (error) {
            const reason = error instanceof StepFailure ? error.reason : 'failed';
            if (
              reason === 'error:rate_limited' &&
              retries < MAX_RATE_LIMITED_RETRIES &&
              !stop.signal.aborted
            ) {
              retries++;
              rateLimited++;
              const notice = conversation.errors.at(-1);
              await sleep(notice?.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, stop.signal);
              continue;
            }
            // A step cut short by the run stopping is not a failure of the system under load.
            if (reason === INTERRUPTED || stop.signal.aborted) return 'cut';
            steps.push({ key, endedAt: Date.now(), durationMs: Date.now() - stepStarted, reason });
            return 'failed';
          }
        }
      }
      return 'passed';
    } finally {
      timeReplies(conversation, probes, replies);
      if (await conversation.end(END_WITHIN_MS)) sessionsEnded++;
      conversation.close();
      live.delete(conversation);
    }
  };

  const guest = async (index: number): Promise<void> => {
    await sleep((index * 1000) / options.rampPerSecond, enough.signal);
    if (enough.signal.aborted) return;
    guestsStarted++;
    setActive(1);
    try {
      for (let k = 0; iterationsPerGuest === undefined || k < iterationsPerGuest; k++) {
        if (enough.signal.aborted) return;
        const scenario = options.scenarios[(index + k) % options.scenarios.length] as Scenario;
        const outcome = await iteration(scenario);
        if (outcome === 'cut') return;
        iterations++;
        if (outcome === 'passed') passed++;
        else failed++;
      }
    } finally {
      setActive(-1);
    }
  };

  // Ctrl+C and the end of the grace period interrupt whatever is still waiting.
  stop.signal.addEventListener('abort', () => {
    for (const conversation of live) conversation.interrupt(new StepFailure('the run stopped', INTERRUPTED));
  });

  try {
    await Promise.all(Array.from({ length: options.guests }, (_, index) => guest(index)));
  } finally {
    clearInterval(sample);
    for (const timer of timers) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  setActive(0);
  const ended = Date.now();
  activeSamples.push({ at: ended, active });
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const cpu = process.cpuUsage(cpuAtStart);

  const failedSteps = steps.filter((s) => s.reason !== undefined).length;
  const errorRate = steps.length === 0 ? 0 : failedSteps / steps.length;
  const overall = percentiles(replies.map((r) => r.ms));
  const thresholds: ThresholdResult[] = [];
  if (options.thresholds.maxP95Ms !== undefined) {
    // No reply timed at all cannot pass a latency threshold.
    const actual = overall?.p95 ?? Number.POSITIVE_INFINITY;
    thresholds.push({
      name: 'max-p95',
      limit: options.thresholds.maxP95Ms,
      actual,
      passed: actual <= options.thresholds.maxP95Ms,
      what: 'p95 of the time from a guest message to the first reply, ms',
    });
  }
  if (options.thresholds.maxErrorRate !== undefined) {
    thresholds.push({
      name: 'max-error-rate',
      limit: options.thresholds.maxErrorRate,
      actual: errorRate,
      passed: errorRate <= options.thresholds.maxErrorRate,
      what: 'failed steps / steps',
    });
  }

  return {
    startedAt: new Date(started).toISOString(),
    durationMs: ended - started,
    stoppedBy,
    settings: options.settings,
    totals: {
      guests: guestsStarted,
      iterations,
      passed,
      failed,
      steps: steps.length,
      failedSteps,
      errorRate,
      rateLimited,
      sessionsStarted,
      sessionsEnded,
    },
    steps: stepStats(options.scenarios, steps, replies),
    bucketMs,
    timeline: timeline(started, ended, bucketMs, steps, replies, activeSamples),
    thresholds,
    generator: {
      cpuMsPerGuestSecond: activeMs === 0 ? 0 : (cpu.user + cpu.system) / 1000 / (activeMs / 1000),
      peakRssBytes: peakRss,
      rssBytesPerGuest: peakActive === 0 ? 0 : Math.max(0, peakRss - rssAtStart) / peakActive,
      peakActive,
    },
  };
}

/** Each send step's first reply: the first agent or bot entry after the guest's own. */
function timeReplies(conversation: Conversation, probes: readonly Probe[], into: ReplyRecord[]): void {
  const ordered = conversation.ordered();
  for (const probe of probes) {
    const own = ordered.find((e) => e.sequenceId > probe.before && e.direction === 'guest');
    if (own === undefined) continue;
    const reply = ordered.find((e) => e.sequenceId > own.sequenceId && e.direction !== 'guest');
    const arrivedAt = reply === undefined ? undefined : conversation.arrivedAt.get(reply.sequenceId);
    if (arrivedAt === undefined) continue;
    // From the send itself: a step that first waits (a quick reply waits for its offer) is not timed from
    // its start.
    const sentAt =
      (own.clientMessageId === undefined ? undefined : conversation.sentAt.get(own.clientMessageId)) ??
      probe.sentAt;
    into.push({ key: probe.key, arrivedAt, ms: Math.max(0, arrivedAt - sentAt) });
  }
}

function stepStats(
  scenarios: readonly Scenario[],
  records: readonly StepRecord[],
  replies: readonly ReplyRecord[],
): StepStats[] {
  const byKey = new Map<string, StepRecord[]>();
  for (const record of records) byKey.set(record.key, [...(byKey.get(record.key) ?? []), record]);
  const repliesByKey = new Map<string, number[]>();
  for (const reply of replies)
    repliesByKey.set(reply.key, [...(repliesByKey.get(reply.key) ?? []), reply.ms]);
  const seen = new Set<string>();
  const out: StepStats[] = [];
  for (const scenario of scenarios) {
    const rows: { key: string; source: string; kind: string }[] = [
      { key: `${scenario.file}:${scenario.line}`, source: 'connect (start a session)', kind: 'connect' },
      ...scenario.steps.map((placed) => ({
        key: stepKey(scenario, placed),
        source: placed.source,
        kind: placed.step.kind,
      })),
    ];
    for (const row of rows) {
      if (seen.has(row.key)) continue;
      seen.add(row.key);
      const runs = byKey.get(row.key) ?? [];
      const reasons = new Map<string, number>();
      for (const run of runs)
        if (run.reason !== undefined) reasons.set(run.reason, (reasons.get(run.reason) ?? 0) + 1);
      const firstReply = percentiles(repliesByKey.get(row.key) ?? []);
      out.push({
        key: row.key,
        scenario: scenario.name,
        source: row.source,
        kind: row.kind,
        count: runs.length,
        failures: [...reasons]
          .map(([reason, count]) => ({ reason, count }))
          .sort((a, b) => b.count - a.count),
        ...(firstReply === undefined ? {} : { firstReply }),
        duration: percentiles(runs.map((r) => r.durationMs)) ?? {
          count: 0,
          median: 0,
          p95: 0,
          p99: 0,
          max: 0,
        },
      });
    }
  }
  return out;
}

function timeline(
  started: number,
  ended: number,
  bucketMs: number,
  steps: readonly StepRecord[],
  replies: readonly ReplyRecord[],
  activeSamples: readonly { at: number; active: number }[],
): TimeBucket[] {
  const count = Math.max(1, Math.ceil((ended - started) / bucketMs));
  const buckets: TimeBucket[] = [];
  const index = (at: number): number =>
    Math.min(count - 1, Math.max(0, Math.floor((at - started) / bucketMs)));
  const stepsIn = Array.from({ length: count }, () => ({ steps: 0, errors: 0 }));
  for (const step of steps) {
    const b = stepsIn[index(step.endedAt)] as { steps: number; errors: number };
    b.steps++;
    if (step.reason !== undefined) b.errors++;
  }
  const repliesIn = Array.from({ length: count }, () => [] as number[]);
  for (const reply of replies) (repliesIn[index(reply.arrivedAt)] as number[]).push(reply.ms);
  let sample = 0;
  let active = 0;
  for (let i = 0; i < count; i++) {
    const end = started + (i + 1) * bucketMs;
    while (sample < activeSamples.length && (activeSamples[sample] as { at: number }).at <= end) {
      active = (activeSamples[sample] as { active: number }).active;
      sample++;
    }
    const firstReply = percentiles(repliesIn[i] as number[]);
    const { steps: stepCount, errors } = stepsIn[i] as { steps: number; errors: number };
    buckets.push({
      atMs: i * bucketMs,
      active,
      steps: stepCount,
      errors,
      ...(firstReply === undefined ? {} : { firstReply }),
    });
  }
  return buckets;
}
