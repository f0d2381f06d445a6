/**
 * `runChaos(options)`: many guest sessions talking both ways through the whole local system (dynalite,
 * both gateway emulators with the real handlers, the Genesys emulator, workers as child processes) while
 * faults hit it at seeded points of the traffic: upstream sockets dropped, 429s forced, pushes reordered
 * and duplicated, frontend connections cut (also right after a send), and one worker SIGKILLed in the
 * middle. Then every session's ground truth is compared with the stored transcript, with what Genesys
 * received and with what its frontend received (bench/chaos/compare.ts). The run is bounded: a hard
 * deadline stops it with ChaosDeadlineError and cleans up. Used by `npm run chaos` (bench/chaos.ts) and
 * by test/integration/chaos.test.ts (a small size).
 */
import { writeFile } from 'node:fs/promises';
import {
  createSystem,
  DEFAULT_TIMING,
  type EmulatedSystem,
  embeddedSystemConfig,
  FAST_TIMING,
  withEmulator,
} from '../../local/system.js';
import { COMMAND_QUEUE_DEFAULTS } from '../../src/commands/queue.js';
import { rejectUnknownOptions } from '../../src/domain/options.js';
import { type Random, seeded } from '../support/random.js';
import { sleep } from '../support/stats.js';
import {
  addCounts,
  type Counts,
  checkFrontend,
  checkStored,
  checkUpstream,
  isClean,
  type Truth,
  ZERO,
} from './compare.js';
import {
  type FaultKind,
  type FaultTally,
  Injector,
  type KilledWorker,
  type PlannedFault,
  planFaults,
  type Target,
} from './faults.js';
import { ChaosFrontend } from './frontend.js';

export interface ChaosOptions {
  readonly sessions: number;
  /** Messages each way per session. */
  readonly rounds: number;
  /** Worker processes; with two or more, one is SIGKILLed in the middle of the traffic. */
  readonly workers: number;
  readonly seed: number;
  /** Planned faults besides the worker kill (at least one of each kind). */
  readonly faults: number;
  /** Pause before each round of a session, drawn between these bounds (ms). */
  readonly minGapMs: number;
  readonly maxGapMs: number;
  /** 'fast': heartbeat 0.4 s, stale 2.5 s (as the failover tests); 'production': the worker defaults. */
  readonly timing: 'fast' | 'production';
  /** How long, after the traffic, every transcript may take to be complete. */
  readonly settleTimeoutMs: number;
  /** The whole run, setup and cleanup aside; past it the run fails with ChaosDeadlineError. */
  readonly deadlineMs: number;
  /** Progress lines (the CLI prints them; the test passes nothing). */
  readonly log: (line: string) => void;
  /** A file for every worker's log lines (JSON lines, WARN and ERROR included), written at the end. */
  readonly workerLog?: string;
}

export const CHAOS_DEFAULTS: ChaosOptions = Object.freeze({
  sessions: 40,
  rounds: 12,
  workers: 3,
  seed: 1,
  faults: 12,
  minGapMs: 150,
  maxGapMs: 900,
  timing: 'fast',
  settleTimeoutMs: 60_000,
  deadlineMs: 180_000,
  log: () => {},
});

export interface ChaosResult {
  readonly options: Omit<ChaosOptions, 'log'>;
  readonly durationMs: number;
  readonly messages: { readonly guestToAgent: number; readonly agentToGuest: number };
  readonly faults: Readonly<Record<FaultKind, FaultTally>>;
  readonly frontends: {
    readonly drops: number;
    readonly resumes: number;
    readonly resentSends: number;
    readonly retryableErrors: number;
  };
  readonly killedWorker: KilledWorker | undefined;
  /** (a) stored transcript, (b) what Genesys received, (c) what the frontends received. */
  readonly checks: { readonly stored: Counts; readonly upstream: Counts; readonly frontend: Counts };
  readonly total: Counts;
  /** Every transcript was complete before settleTimeoutMs ran out. */
  readonly settled: boolean;
  /** Guest entries the relay marked failed (Genesys never took them). */
  readonly failedSends: number;
  /** What went wrong, per session (the first few), for a failing run's message. */
  readonly problems: readonly string[];
}

export class ChaosDeadlineError extends Error {
  override readonly name = 'ChaosDeadlineError';
}

export function chaosFailed(result: ChaosResult): boolean {
  return !isClean(result.total) || !result.settled || result.problems.length > 0;
}

const MAX_PROBLEMS = 20;
const START_CONCURRENCY = 8;
const POLL_MS = 300;

interface Conversation extends Target {
  readonly index: number;
  readonly truth: { guestSaid: string[]; agentSaid: string[] };
  readonly random: Random;
}

/** What the run shares between its parts, so that a deadline can stop and clean up whatever exists. */
interface RunState {
  phase: string;
  system: EmulatedSystem | undefined;
  readonly frontends: ChaosFrontend[];
  injector: Injector | undefined;
  stopped: boolean;
  readonly problems: string[];
}

/** Options without a default. */
const OPTIONAL: ReadonlySet<string> = new Set(['workerLog'] satisfies (keyof ChaosOptions)[]);

function resolveOptions(options: Partial<ChaosOptions>): ChaosOptions {
  rejectUnknownOptions('runChaos', [...Object.keys(CHAOS_DEFAULTS), ...OPTIONAL], options);
  const o = { ...CHAOS_DEFAULTS, ...options };
  for (const key of ['sessions', 'rounds', 'workers', 'faults', 'minGapMs', 'maxGapMs'] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 0) throw new RangeError(`runChaos: bad ${key} ${o[key]}`);
  }
  if (o.sessions < 1 || o.rounds < 1 || o.workers < 1) {
    throw new RangeError('runChaos: sessions, rounds and workers must be at least 1');
  }
  if (o.maxGapMs < o.minGapMs) throw new RangeError('runChaos: maxGapMs < minGapMs');
  return o;
}

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const o = resolveOptions(options);
  const state: RunState = {
    phase: 'starting',
    system: undefined,
    frontends: [],
    injector: undefined,
    stopped: false,
    problems: [],
  };
  const work = chaos(o, state);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ChaosDeadlineError(
            `chaos run exceeded its deadline of ${o.deadlineMs / 1000} s while ${state.phase}`,
          ),
        ),
      o.deadlineMs,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    state.stopped = true;
    state.injector?.stop();
    for (const frontend of state.frontends) frontend.close();
    if (o.workerLog !== undefined && state.system !== undefined) {
      await writeFile(
        o.workerLog,
        state.system
          .workerLogs()
          .map((line) => `${JSON.stringify(line)}\n`)
          .join(''),
      );
    }
    await state.system?.stop();
    // After a deadline the abandoned work fails on the closed system: that failure is expected.
    await work.catch(() => {});
  }
}

async function chaos(o: ChaosOptions, state: RunState): Promise<ChaosResult> {
  const started = Date.now();
  const random = seeded(o.seed);
  const plan = planFaults(random, o.faults, o.workers);

  state.phase = 'starting the system';
  // Upstream: the emulator with no bot (the run plays the agent); a guest may keep sending while no
  // worker holds its session (the production bound on pending commands).
  const system = withEmulator(
    await createSystem(
      embeddedSystemConfig({
        genesys: { emulator: { script: null } },
        timing: o.timing === 'fast' ? FAST_TIMING : DEFAULT_TIMING,
        relay: { maxPending: COMMAND_QUEUE_DEFAULTS.maxPending, validateResponses: true },
      }),
    ),
  );
  state.system = system;
  const workers = await Promise.all(
    Array.from({ length: o.workers }, (_, i) => system.spawnWorker({ workerId: `w-${i + 1}` })),
  );
  o.log(`system up: ${o.workers} workers; opening ${o.sessions} sessions`);

  state.phase = 'opening sessions';
  const conversations = await openConversations(o, state, system, random);
  const injector = new Injector(system, workers, conversations, random);
  state.injector = injector;
  o.log(`${conversations.length} sessions active; ${plan.length} faults planned`);

  state.phase = 'running traffic under faults';
  const trafficStarted = Date.now();
  await traffic(o, state, system, conversations, injector, plan);
  checkpoint(state);
  o.log(`traffic done in ${((Date.now() - trafficStarted) / 1000).toFixed(1)} s; settling`);

  state.phase = 'waiting for every transcript to be complete';
  // Faults armed late still act on the backlog (sends queued while a worker was dead): counted after it.
  const settled = await settle(o, state, system, conversations, injector);
  checkpoint(state);
  injector.finish();

  state.phase = 'comparing transcripts with the ground truth';
  const verdict = await compareAll(system, conversations, state.problems);
  return {
    options: withoutLog(o),
    durationMs: Date.now() - started,
    messages: {
      guestToAgent: sum(conversations.map((c) => c.truth.guestSaid.length)),
      agentToGuest: sum(conversations.map((c) => c.truth.agentSaid.length)),
    },
    faults: injector.tally,
    frontends: frontendCounters(conversations),
    killedWorker: injector.killed,
    checks: verdict.checks,
    total: addCounts(verdict.checks.stored, verdict.checks.upstream, verdict.checks.frontend),
    settled,
    failedSends: verdict.failedSends,
    problems: state.problems.slice(0, MAX_PROBLEMS),
  };
}

/** Past the deadline the run is abandoned: stop here rather than work on a closed system. */
function checkpoint(state: RunState): void {
  if (state.stopped) throw new Error('the chaos run was stopped');
}

function withoutLog(o: ChaosOptions): Omit<ChaosOptions, 'log'> {
  const { log: _log, ...rest } = o;
  return rest;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Starts every session (a few at a time) and waits for each to be active upstream. */
async function openConversations(
  o: ChaosOptions,
  state: RunState,
  system: EmulatedSystem,
  random: Random,
): Promise<Conversation[]> {
  const seeds = Array.from({ length: o.sessions }, () => random.int(0, 2 ** 31 - 1));
  const conversations: Conversation[] = [];
  let next = 0;
  const opener = async (): Promise<void> => {
    while (next < o.sessions && !state.stopped) {
      const index = next++;
      const frontend = new ChaosFrontend({
        url: `${system.publicApi.url}?token=${encodeURIComponent(await system.mintToken({ team: 'team-a' }))}`,
        label: `chaos-frontend-${index}`,
        onTransmit: (f) => state.injector?.onTransmit(f),
      });
      state.frontends.push(frontend);
      const sessionId = await frontend.start();
      conversations.push({
        index,
        frontend,
        sessionId,
        token: await system.guestTokenOf(sessionId),
        reorderArmed: false,
        truth: { guestSaid: [], agentSaid: [] },
        random: seeded(seeds[index] as number),
      });
    }
  };
  await Promise.all(Array.from({ length: START_CONCURRENCY }, opener));
  return conversations.sort((a, b) => a.index - b.index);
}

/** Every session's rounds, side by side, while the planned faults fire as the rounds complete. */
async function traffic(
  o: ChaosOptions,
  state: RunState,
  system: EmulatedSystem,
  conversations: readonly Conversation[],
  injector: Injector,
  plan: readonly PlannedFault[],
): Promise<void> {
  const total = conversations.length * o.rounds;
  let completed = 0;
  let running = conversations.length;
  const talk = async (c: Conversation): Promise<void> => {
    try {
      for (let n = 1; n <= o.rounds && !state.stopped; n++) {
        await sleep(c.random.int(o.minGapMs, o.maxGapMs));
        await round(system, c, n, injector);
        completed++;
      }
    } catch (error) {
      state.problems.push(`session ${c.index}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running--;
    }
  };
  const schedule = async (): Promise<void> => {
    for (const fault of plan) {
      while (completed / total < fault.at && running > 0 && !state.stopped) await sleep(20);
      if (running === 0 || state.stopped) return;
      await injector.fire(fault.kind);
      o.log(`  ${(fault.at * 100).toFixed(0).padStart(2)}% of rounds: ${fault.kind}`);
    }
  };
  await Promise.all([...conversations.map(talk), schedule()]);
}

/** One message each way: the agent speaks at a random moment while the guest's send is under way. */
async function round(system: EmulatedSystem, c: Conversation, n: number, injector: Injector): Promise<void> {
  const reply = `agent ${c.index} reply ${n}`;
  const agent = sleep(c.random.int(0, 300)).then(() => {
    c.truth.agentSaid.push(reply);
    system.emulator.agent.say(c.token, { from: 'agent', nickname: 'Sam', text: reply });
    injector.spoke(c);
  });
  const text = `guest ${c.index} message ${n}`;
  c.truth.guestSaid.push(text);
  try {
    await c.frontend.send(text, `chaos-${c.index}-${n}`);
  } finally {
    await agent;
  }
}

/** Waits until every session is complete on all three sides, or settleTimeoutMs ran out. */
async function settle(
  o: ChaosOptions,
  state: RunState,
  system: EmulatedSystem,
  conversations: readonly Conversation[],
  injector: Injector,
): Promise<boolean> {
  const until = Date.now() + o.settleTimeoutMs;
  let pending = [...conversations];
  while (pending.length > 0 && Date.now() < until && !state.stopped) {
    const done = await Promise.all(pending.map((c) => complete(system, c)));
    pending = pending.filter((_, i) => !done[i]);
    if (pending.length > 0) await sleep(POLL_MS);
  }
  // The takeover was long over if the transcripts are complete; otherwise it may still be measured.
  await Promise.race([injector.takeover, sleep(Math.max(0, until - Date.now()))]);
  injector.stop();
  // One line for them all: the list of problems is cut at MAX_PROBLEMS, and the comparisons that say
  // what each session misses come after this.
  if (pending.length > 0) {
    state.problems.push(
      `${pending.length} session(s) not complete after the traffic: ${pending.map((c) => c.index).join(', ')}`,
    );
  }
  const killed = injector.killed;
  if (killed !== undefined && killed.takeoverMs === undefined) {
    state.problems.push(`the sessions of ${killed.name} (SIGKILLed) did not all get a new owner`);
  }
  return pending.length === 0;
}

/** Stored (every guest entry settled as sent), received by Genesys, and seen by the frontend. */
async function complete(system: EmulatedSystem, c: Conversation): Promise<boolean> {
  const entries = await system.transcript(c.sessionId);
  const guest = entries.filter((e) => e.direction === 'guest');
  const agent = entries.filter((e) => e.direction === 'agent');
  const inbound = system.emulator.transcript(c.token).filter((m) => m.direction === 'Inbound');
  const last = Math.max(0, ...entries.map((e) => e.seq));
  return (
    guest.length >= c.truth.guestSaid.length &&
    guest.every((e) => e.status === 'sent' || e.status === 'delivered' || e.status === 'read') &&
    agent.length >= c.truth.agentSaid.length &&
    inbound.length >= c.truth.guestSaid.length &&
    c.frontend.contiguous >= last
  );
}

async function compareAll(
  system: EmulatedSystem,
  conversations: readonly Conversation[],
  problems: string[],
): Promise<{ checks: ChaosResult['checks']; failedSends: number }> {
  let stored = ZERO;
  let upstream = ZERO;
  let frontend = ZERO;
  let failedSends = 0;
  for (const c of conversations) {
    const truth: Truth = c.truth;
    const entries = await system.transcript(c.sessionId);
    failedSends += entries.filter((e) => e.status === 'failed').length;
    const inbound = system.emulator
      .transcript(c.token)
      .filter((m) => m.direction === 'Inbound')
      .map((m) => m.text ?? '');
    const counts = {
      stored: checkStored(truth, entries),
      upstream: checkUpstream(truth, inbound),
      frontend: checkFrontend(truth, c.frontend.seen),
    };
    for (const [check, found] of Object.entries(counts)) {
      if (!isClean(found)) {
        problems.push(`session ${c.index} (${c.sessionId}) ${check}: ${JSON.stringify(found)}`);
      }
    }
    if (!isClean(counts.stored)) problems.push(describeStored(system, c, entries));
    if (!isClean(counts.upstream)) problems.push(describeUpstream(system, c, entries));
    if (!isClean(counts.frontend)) problems.push(describeFrontend(system, c, entries));
    stored = addCounts(stored, counts.stored);
    upstream = addCounts(upstream, counts.upstream);
    frontend = addCounts(frontend, counts.frontend);
  }
  return { checks: { stored, upstream, frontend }, failedSends };
}

/**
 * For a failing stored check: the agent's messages missing from the transcript (whether Genesys has them,
 * and when they were said), and everything the workers logged about the session, newest last.
 */
function describeStored(
  system: EmulatedSystem,
  c: Conversation,
  entries: readonly { direction: string; text?: string | undefined }[],
): string {
  const stored = new Set(entries.map((e) => e.text));
  const outbound = new Map(
    system.emulator
      .transcript(c.token)
      .filter((m) => m.direction === 'Outbound')
      .map((m) => [m.text ?? '', m] as const),
  );
  const missing = c.truth.agentSaid
    .filter((text) => !stored.has(text))
    .map((text) => {
      const said = outbound.get(text);
      return `"${text}" (${said === undefined ? 'not in Genesys either' : `said at ${said.channel?.time ?? '?'}`})`;
    });
  const logs = system
    .workerLogs()
    .filter((line) => JSON.stringify(line).includes(c.sessionId))
    .slice(-8)
    .map((line) => `  worker: ${JSON.stringify(line)}`);
  return [`session ${c.index}: never stored: ${missing.join(', ') || 'no agent message'}`, ...logs].join(
    '\n',
  );
}

/**
 * For a failing Genesys check: the guest's messages in the order Genesys received them, each with its
 * stored sequenceId and when Genesys had it, and what the workers logged about the session.
 */
function describeUpstream(
  system: EmulatedSystem,
  c: Conversation,
  entries: readonly { seq: number; direction: string; text?: string | undefined }[],
): string {
  const seqOf = new Map(entries.filter((e) => e.direction === 'guest').map((e) => [e.text, e.seq] as const));
  const received = system.emulator
    .transcript(c.token)
    .filter((m) => m.direction === 'Inbound')
    .map((m) => `#${seqOf.get(m.text) ?? '?'} "${m.text ?? ''}" at ${m.channel?.time ?? '?'}`);
  const logs = system
    .workerLogs()
    .filter((line) => JSON.stringify(line).includes(c.sessionId))
    .slice(-12)
    .map((line) => `  worker: ${JSON.stringify(line)}`);
  return [
    `session ${c.index}: Genesys received, in this order:`,
    ...received.map((r) => `  ${r}`),
    ...logs,
  ].join('\n');
}

/** For a failing frontend check: what it missed, where that is stored, and what the workers said. */
function describeFrontend(
  system: EmulatedSystem,
  c: Conversation,
  entries: readonly { seq: number; direction: string; text?: string | undefined; time: string }[],
): string {
  const received = new Set(c.frontend.seen.map((m) => m.text));
  const missed = entries
    .filter((e) => e.text !== undefined && !received.has(e.text))
    .map((e) => `#${e.seq} ${e.direction} "${e.text}" at ${e.time}`);
  const warnings = system
    .workerLogs()
    .filter((line) => JSON.stringify(line).includes(c.sessionId) && line.level !== 'INFO')
    .slice(0, 5)
    .map((line) => JSON.stringify(line));
  return [
    `session ${c.index}: the frontend never received ${missed.join(', ') || 'nothing stored'}`,
    `  frontend ${JSON.stringify(c.frontend.counters)}, seen up to #${c.frontend.contiguous}`,
    ...c.frontend.history.map((h) => `  frontend: ${h}`),
    ...warnings.map((w) => `  worker: ${w}`),
  ].join('\n');
}

function frontendCounters(conversations: readonly Conversation[]): ChaosResult['frontends'] {
  const total = (key: keyof ChaosFrontend['counters']) =>
    sum(conversations.map((c) => c.frontend.counters[key]));
  return {
    drops: total('drops'),
    resumes: total('resumes'),
    resentSends: total('resentSends'),
    retryableErrors: total('retryableErrors'),
  };
}
