/**
 * Reconnect storm: the Genesys emulator drops every upstream socket of one worker at once; how long until
 * every session is resumed, how the reconnects spread over time, and whether any message is lost.
 *
 *   npx tsx bench/storm.ts [--sessions 2000] [--sample 100] [--unpaced]
 *
 * One `worker/main.ts` child process holds the sessions (bench/support/fleet.ts: the whole local system
 * on loopback, the Genesys emulator in a process of its own, sessions started through the public API).
 * Then the emulator's `faults.dropSockets()` cuts every guest socket (the client sees 1006), and its
 * observation hook timestamps each resume (a `configureSession` answered with `newSession: false`). While the storm is on, on a sample of the
 * sessions the guest sends messages through the public API and the agent says messages at Genesys, a
 * steady trickle from the drop on (see `talk`). Afterwards every one must be at Genesys (guest
 * messages) and in the relay's transcript (both) exactly once: lost and duplicated are counted.
 * `--unpaced` runs the worker without its reconnect pacer (RECONNECT_RATE_PER_SECOND=0): the "before".
 * Run directly it prints the table and writes bench/results/storm.json; `measureStorm` is what
 * `npm run bench` calls. Everything is torn down at the end (the worker is SIGKILLed), also on failure.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { WorkerOverrides } from '../local/system.js';
import type { GuestSocketObservation } from '../src/genesys/emulator/index.js';
import type { Guest } from '../support/frontend.js';
import { Fleet } from './support/fleet.js';
import { cpuTimeMs } from './support/proc.js';
import { type Figure, formatTable, runWhenMain, writeResults } from './support/report.js';
import { sleep } from './support/stats.js';

export interface StormOptions {
  /** Sessions held by the worker, all dropped at once. Default 2000. */
  readonly sessions?: number;
  /** Sessions that exchange messages during the storm (their frontends stay open). Default 100. */
  readonly sample?: number;
  /** Sessions started at once while the fleet is built. Default 40. */
  readonly concurrency?: number;
  /** No reconnect pacing in the worker (the behaviour before it existed). Default false. */
  readonly unpaced?: boolean;
  /** The worker's configuration besides the fleet's. */
  readonly worker?: WorkerOverrides;
}

const SECTION = 'reconnect storm';
/** The targets: every session resumed within 40 s, no second with more than a quarter. */
const TARGET_RESUMED_S = 40;
const TARGET_PEAK_SHARE = 25;
/** Messages each way per sampled session, and the time over which each round is spread (see `talk`). */
const ROUNDS = 2;
const ROUND_MS = 3_000;
/** Bounds: the resume of every session, then the delivery of every message. */
const RESUME_DEADLINE_MS = 120_000;
const DELIVERY_DEADLINE_MS = 60_000;
/** Quiet before the drop, so that the storm is all that happens. */
const SETTLE_MS = 3_000;

interface Sampled {
  readonly sessionId: string;
  readonly token: string;
  readonly guest: Guest;
  readonly guestTexts: string[];
  readonly agentTexts: string[];
}

interface Tally {
  checked: number;
  guestLost: number;
  guestDuplicated: number;
  agentLost: number;
  agentDuplicated: number;
}

export async function measureStorm(options: StormOptions = {}): Promise<Figure[]> {
  const size = options.sessions ?? 2_000;
  const sampleSize = Math.min(options.sample ?? 100, size);
  const label = options.unpaced ? ', unpaced' : '';
  const worker: WorkerOverrides = {
    ...(options.unpaced ? { reconnectRatePerSecond: 0 } : {}),
    ...options.worker,
  };
  const fleet = await Fleet.start({ worker });
  try {
    await fleet.add(size, {
      concurrency: options.concurrency ?? 40,
      keepFrontends: sampleSize,
      timeoutMs: 60_000 + size * 100,
    });
    const sampled = await sampleSessions(fleet);
    await sleep(SETTLE_MS);

    // The storm: every upstream socket cut at once; resumes counted at the emulator.
    const resumedAt = new Map<string, number>();
    let attempts = 0;
    const dropAt = Date.now();
    const stopObserving = fleet.observe((observation: GuestSocketObservation) => {
      if (observation.type === 'accepted') attempts++;
      if (observation.type === 'configured' && !observation.newSession && !resumedAt.has(observation.token))
        resumedAt.set(observation.token, observation.at);
    });
    const cpuBefore = cpuTimeMs(fleet.pid);
    const dropped = await fleet.genesys.dropSockets();
    const traffic = talk(fleet, sampled, dropAt);
    const resumed = await waitFor(() => resumedAt.size >= dropped, RESUME_DEADLINE_MS);
    const stormMs = Date.now() - dropAt;
    const cpuPercent = (100 * (cpuTimeMs(fleet.pid) - cpuBefore)) / stormMs;
    stopObserving();
    const refused = await traffic;
    const tally = await settleDeliveries(fleet, sampled);

    const times = [...resumedAt.values()].map((at) => at - dropAt);
    const buckets = perSecond(times);
    const peak = Math.max(0, ...buckets);
    const lastMs = Math.max(0, ...times);
    const figures: Figure[] = [
      {
        section: SECTION,
        measure: `upstream sockets dropped at once${label}`,
        value: dropped,
        unit: 'count',
      },
      {
        section: SECTION,
        measure: `time until all resumed${label}`,
        value: resumed ? lastMs / 1000 : Number.POSITIVE_INFINITY,
        unit: 's',
        target: { max: TARGET_RESUMED_S },
        note: resumed
          ? 'drop → the last resume (SessionResponse newSession:false) at the emulator'
          : `${resumedAt.size} of ${dropped} within ${RESUME_DEADLINE_MS / 1000} s`,
      },
      {
        section: SECTION,
        measure: `peak reconnect rate${label}`,
        value: peak,
        unit: 'reconnects/s',
        note: `per 1-s bucket from the drop: ${buckets.join(' ')}`,
      },
      {
        section: SECTION,
        measure: `peak second's share of the reconnects${label}`,
        value: dropped === 0 ? 0 : (100 * peak) / dropped,
        unit: '%',
        target: { max: TARGET_PEAK_SHARE },
      },
      {
        section: SECTION,
        measure: `upstream connect attempts${label}`,
        value: attempts,
        unit: 'count',
        note: 'sockets the emulator accepted during the storm (more than the sessions: retries)',
      },
      {
        section: SECTION,
        measure: `worker CPU during the storm${label}`,
        value: cpuPercent,
        unit: '% of a core',
      },
      ...messageFigures(tally, refused, sampled.length, label),
    ];
    return figures;
  } finally {
    await fleet.close();
  }
}

/** The sessions whose frontends were kept, with their Genesys tokens. */
async function sampleSessions(fleet: Fleet): Promise<Sampled[]> {
  const kept = fleet.sessions.filter((session) => session.guest !== undefined);
  return Promise.all(
    kept.map(async (session) => ({
      sessionId: session.sessionId,
      token: await fleet.tokenOf(session.sessionId),
      guest: session.guest as Guest,
      guestTexts: [],
      agentTexts: [],
    })),
  );
}

/**
 * On every sampled session, ROUNDS times: the agent says a message at Genesys (stored there; delivered
 * live or by the resume's backfill) and the guest sends one through the public API (answered once
 * stored). Round r of session i goes at r × ROUND_MS + (i / sessions) × ROUND_MS after the drop: a steady
 * trickle across the storm, not a burst (the relay's handlers, dynalite and the emulator share one
 * process here, and a burst there would delay the emulator's answers to the reconnects it measures).
 * Returns how many messages could not be sent (the relay refused the send, or the emulator the agent's).
 */
async function talk(fleet: Fleet, sampled: readonly Sampled[], dropAt: number): Promise<number> {
  let refused = 0;
  const converse = async (session: Sampled, index: number): Promise<void> => {
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(dropAt + (round + index / sampled.length) * ROUND_MS - Date.now());
      const agentText = `storm agent ${index}.${round}`;
      const guestText = `storm guest ${index}.${round}`;
      try {
        await fleet.genesys.say(session.token, agentText);
        session.agentTexts.push(agentText);
        await session.guest.send(guestText, randomUUID());
        session.guestTexts.push(guestText);
      } catch {
        refused++;
      }
    }
  };
  await Promise.all(sampled.map(converse));
  return refused;
}

/** Polls until every message is where it belongs exactly once, or the deadline; the last count. */
async function settleDeliveries(fleet: Fleet, sampled: readonly Sampled[]): Promise<Tally> {
  const deadline = Date.now() + DELIVERY_DEADLINE_MS;
  for (;;) {
    const tally = await count(fleet, sampled);
    const clean = tally.guestLost + tally.guestDuplicated + tally.agentLost + tally.agentDuplicated === 0;
    if (clean || Date.now() > deadline) return tally;
    await sleep(1_000);
  }
}

/** Guest messages: once at Genesys and once in the transcript, sent. Agent messages: once in the transcript. */
async function count(fleet: Fleet, sampled: readonly Sampled[]): Promise<Tally> {
  const tally: Tally = { checked: 0, guestLost: 0, guestDuplicated: 0, agentLost: 0, agentDuplicated: 0 };
  for (const session of sampled) {
    const atGenesys = textCounts((await fleet.genesys.transcript(session.token)).map((m) => m.text));
    const entries = await fleet.transcript(session.sessionId);
    const stored = textCounts(entries.map((entry) => entry.text));
    const sent = new Set(
      entries.filter((entry) => entry.direction === 'guest' && entry.status === 'sent').map((e) => e.text),
    );
    for (const text of session.guestTexts) {
      tally.checked++;
      const genesys = atGenesys.get(text) ?? 0;
      if (genesys === 0 || (stored.get(text) ?? 0) === 0 || !sent.has(text)) tally.guestLost++;
      tally.guestDuplicated += Math.max(0, genesys - 1) + Math.max(0, (stored.get(text) ?? 0) - 1);
    }
    for (const text of session.agentTexts) {
      tally.checked++;
      const times = stored.get(text) ?? 0;
      if (times === 0) tally.agentLost++;
      tally.agentDuplicated += Math.max(0, times - 1);
    }
  }
  return tally;
}

function textCounts(texts: readonly (string | undefined)[]): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return counts;
}

function messageFigures(tally: Tally, refused: number, sampled: number, label: string): Figure[] {
  const zero = { max: 0 };
  return [
    {
      section: SECTION,
      measure: `messages checked${label}`,
      value: tally.checked,
      unit: 'count',
      note: `${sampled} sessions × ${ROUNDS} rounds × (guest + agent), from the drop on; ${refused} refused`,
    },
    {
      section: SECTION,
      measure: `guest messages lost${label}`,
      value: tally.guestLost,
      unit: 'count',
      target: zero,
    },
    {
      section: SECTION,
      measure: `guest messages duplicated${label}`,
      value: tally.guestDuplicated,
      unit: 'count',
      target: zero,
      note: 'at Genesys or in the transcript',
    },
    {
      section: SECTION,
      measure: `agent messages lost${label}`,
      value: tally.agentLost,
      unit: 'count',
      target: zero,
    },
    {
      section: SECTION,
      measure: `agent messages duplicated${label}`,
      value: tally.agentDuplicated,
      unit: 'count',
      target: zero,
      note: 'in the transcript',
    },
  ];
}

/** Resumes per whole second after the drop (index = second). */
function perSecond(offsetsMs: readonly number[]): number[] {
  const buckets: number[] = [];
  for (const offset of offsetsMs) {
    const second = Math.max(0, Math.floor(offset / 1000));
    while (buckets.length <= second) buckets.push(0);
    buckets[second] = (buckets[second] ?? 0) + 1;
  }
  return buckets;
}

/** Polls `condition` every 100 ms until it holds (true) or `timeoutMs` passed (false). */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '2000' },
      sample: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '40' },
      unpaced: { type: 'boolean', default: false },
    },
  });
  const options = {
    sessions: Number(values.sessions),
    sample: Number(values.sample),
    concurrency: Number(values.concurrency),
    unpaced: values.unpaced,
  };
  if (
    ![options.sessions, options.sample, options.concurrency].every((n) => Number.isSafeInteger(n) && n > 0)
  ) {
    throw new Error('--sessions, --sample and --concurrency must be whole numbers > 0');
  }
  const figures = await measureStorm(options);
  console.log(formatTable(figures));
  const name = options.unpaced ? 'storm-unpaced' : 'storm';
  console.log(`\nwritten to ${await writeResults(name, figures, { options })}`);
}

// Run directly (not imported by `npm run bench`).
runWhenMain(import.meta.url, main);
