/**
 * Relay latency, one way, in both directions, at 20, 100 and 500 concurrent guest sessions each sending
 * one message per second (and the agent answering each session once per second):
 *
 * - guest → Genesys: from the frontend's `send` frame to the moment the Genesys emulator accepts the
 *   `onMessage` (the emulator's observer, in this process);
 * - Genesys → guest: from `agent.say` at the emulator to the frontend receiving the `message` event.
 *
 * Four paths are measured in the same run, so the table shows ratios:
 * 1. the raw `ws` hop between two processes (an echo server; half the round trip): the physical floor;
 * 2. a minimal direct relay as the seed tutorial builds it (bench/relay/seed-relay.ts: one process
 *    forwarding frames to its own upstream socket per frontend, no store);
 * 3. the design floor (bench/relay/floor-relay.ts): the seed relay plus the store requests the command
 *    path makes before a message leaves, with guest-relay's store code and local mode's engine, and
 *    nothing else of guest-relay: how fast guest-relay could be here with its store code (with
 *    `--paths bare`, also the bare floor: as many requests, each the smallest of its kind);
 * 4. guest-relay in local mode (bench/relay/local-stack.ts: the handlers, dynalite, the worker).
 * The load generator and the Genesys emulator run in this process; each relay runs in its own, so both
 * ends of a path are read on one clock. guest-relay runs with the reorder window at 0 (transport latency
 * only); the window (300 ms by default) holds Genesys pushes on purpose and is reported apart, with one
 * extra run at 100 sessions that keeps it. guest-relay's store requests are counted per message over the
 * measured phase, and then, with one message at a time, how many of them ran one after the other before
 * the message arrived (its local stack traces every request).
 *
 *   npx tsx bench/relay.ts [--sessions 20,100,500] [--seconds 10] [--paths raw,seed,floor,relay,window (and bare)]
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { type GenesysEmulator, startGenesysEmulator } from '../src/genesys/emulator/index.js';
import { type Child, spawnChild } from './relay/child.js';
import { type Figure, formatTable, writeResults } from './support/report.js';
import { type Summary, sleep, summarise } from './support/stats.js';

const SECTION = 'relay latency';
/** Sessions brought up at once, and the time all of them may take. */
const BRING_UP_CONCURRENCY = 25;
const BRING_UP_LIMIT_MS = 120_000;
/** After bring-up, before the measured phase (guest-relay settles each message up to 1.5 s later). */
const SETTLE_MS = 3_000;
/** After the last message: how long stragglers may take before they count as lost. */
const GRACE_MS = 10_000;
/** Messages sent one at a time, after the measured phase, to count the store requests in sequence. */
const SEQUENCE_PROBES = 20;
/** guest-relay's default reorder window (src/genesys/client/options.ts). */
const DEFAULT_WINDOW_MS = 300;

export const PATHS = ['raw', 'seed', 'bare', 'floor', 'relay', 'window'] as const;
export type PathKey = (typeof PATHS)[number];
/** What runs without `--paths`: the bare floor only when asked (a diagnosis, not a design). */
export const DEFAULT_PATHS: readonly PathKey[] = ['raw', 'seed', 'floor', 'relay', 'window'];

export interface RelayLatencyOptions {
  readonly sessions: readonly number[];
  /** Measured seconds per size (after one second of warm-up). */
  readonly seconds: number;
  /** Which paths to run (default all): the raw hop, the seed relay, guest-relay, guest-relay with its window. */
  readonly paths?: readonly PathKey[];
}

/** One measured path at one size. */
export interface PathResult {
  readonly path:
    | 'raw hop'
    | 'seed relay'
    | 'bare floor'
    | 'design floor'
    | 'guest-relay'
    | 'guest-relay, 300 ms window';
  readonly sessions: number;
  readonly toGenesys: Summary;
  readonly toGuest: Summary;
  /** Messages of the measured phase, both directions. */
  readonly sent: number;
  /** Messages that had not arrived at the end of the grace period (both directions). */
  readonly undelivered: number;
  /** Error events the frontends received, by code (e.g. `service_unavailable` when overloaded). */
  readonly errors: Readonly<Record<string, number>>;
  /** Why the run stopped early (e.g. sessions could not all be brought up in time). */
  readonly failure?: string;
  /**
   * The relay's process CPU (user + system, every thread) during the measured phase, per message driven:
   * what a message costs the machine, and so how much load local mode takes before its tail grows.
   */
  readonly cpuPerMessageMs?: number;
  /** Every relay but the seed relay: DynamoDB requests in the measured phase, by operation, per message. */
  readonly storeRequestsPerMessage?: Readonly<Record<string, number>>;
  /**
   * guest-relay only: of the store requests a message caused before it arrived, how many ran one after
   * the other (the longest chain of requests that did not overlap), median and highest over the probes.
   */
  readonly inSequence?: {
    readonly toGenesys: { readonly median: number; readonly max: number };
    readonly toGuest: { readonly median: number; readonly max: number };
  };
}

/** A store request the local stack made, on the machine's clock (epoch ms). */
interface TracedRequest {
  readonly operation: string;
  readonly start: number;
  readonly end: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * The most requests among `requests` that ran one after another inside [from, to]: the longest chain of
 * intervals that do not overlap (earliest end first is optimal). Requests of other work that happen to
 * fall in the window can only lengthen it; the probes' median is robust to the odd sweep.
 */
export function longestChain(requests: readonly TracedRequest[], from: number, to: number): number {
  const inside = requests.filter((r) => r.start >= from && r.end <= to).sort((a, b) => a.end - b.end);
  let count = 0;
  let free = from;
  for (const r of inside) {
    if (r.start < free) continue;
    count++;
    free = r.end;
  }
  return count;
}

/**
 * After the measured phase: the first session sends SEQUENCE_PROBES messages one at a time, and the agent
 * answers as many, one at a time; for each, the chain of store requests between the send and its arrival
 * (at Genesys, at the frontend).
 */
async function probeSequence(
  emulator: GenesysEmulator,
  relay: Child<unknown>,
  frontend: Frontend,
): Promise<NonNullable<PathResult['inSequence']>> {
  await relay.ask(); // clears the child's trace
  const windows: { kind: 'toGenesys' | 'toGuest'; from: number; to: number }[] = [];
  for (let i = 0; i < SEQUENCE_PROBES; i++) {
    const text = `probe g ${i}`;
    const arrived = new Promise<number>((resolve) => {
      const stop = emulator.observeGuestSockets((o) => {
        if (o.type === 'message' && o.text === text) {
          stop();
          resolve(epochNow());
        }
      });
    });
    const from = epochNow();
    send('stack', frontend.ws, text);
    windows.push({ kind: 'toGenesys', from, to: await arrived });
    await sleep(150);
    const reply = `probe a ${i}`;
    const got = nextEvent(frontend.ws, (e) => e.type === 'message' && e.text === reply).then(() =>
      epochNow(),
    );
    const at = epochNow();
    emulator.agent.say(frontend.token as string, { from: 'agent', nickname: 'Bench', text: reply });
    windows.push({ kind: 'toGuest', from: at, to: await got });
    await sleep(150);
  }
  const report = (await relay.ask()) as { traced?: TracedRequest[] };
  const traced = report.traced ?? [];
  const summary = (kind: 'toGenesys' | 'toGuest') => {
    const chains = windows
      .filter((w) => w.kind === kind)
      .map((w) => longestChain(traced, w.from, w.to))
      .sort((a, b) => a - b);
    return { median: chains[Math.floor(chains.length / 2)] ?? 0, max: chains.at(-1) ?? 0 };
  };
  return { toGenesys: summary('toGenesys'), toGuest: summary('toGuest') };
}

/** A frontend socket of the benchmark: its own events only go to `onEvent`. */
interface Frontend {
  readonly ws: WebSocket;
  token?: string;
}

type Kind = 'seed' | 'stack';

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Resolves with the first parsed event of `ws` for which `match` holds. */
function nextEvent(ws: WebSocket, match: (event: Record<string, unknown>) => boolean, ms = 30_000) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`no matching event within ${ms} ms`));
    }, ms);
    const onMessage = (data: Buffer): void => {
      const event = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (!match(event)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(event);
    };
    ws.on('message', onMessage);
  });
}

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++] as T);
  });
  await Promise.all(lanes);
}

/** Opens `count` frontends on a relay and waits until each has a live upstream Genesys session. */
async function bringUp(kind: Kind, url: string, count: number): Promise<Frontend[]> {
  const frontends: Frontend[] = [];
  const deadline = performance.now() + BRING_UP_LIMIT_MS;
  await pool(
    Array.from({ length: count }, (_, i) => i),
    BRING_UP_CONCURRENCY,
    async (i) => {
      if (performance.now() > deadline) {
        throw new Error(
          `only ${frontends.length} of ${count} sessions up within ${BRING_UP_LIMIT_MS / 1000} s`,
        );
      }
      const ws = await open(url);
      frontends[i] = { ws };
      if (kind === 'seed') {
        await nextEvent(ws, (e) => e.type === 'connect');
      } else {
        const active = nextEvent(ws, (e) => e.type === 'connect' && e.status === 'active');
        ws.send(JSON.stringify({ action: 'connect', clientMessageId: randomUUID() }));
        await active;
      }
    },
  );
  return frontends;
}

function send(kind: Kind, ws: WebSocket, text: string): void {
  ws.send(
    JSON.stringify(
      kind === 'seed' ? { action: 'send', text } : { action: 'send', text, clientMessageId: randomUUID() },
    ),
  );
}

/**
 * Learns each frontend's Genesys token: every frontend sends `w <index>` and the emulator's observer
 * sees which token it arrived with (the agent must address the session by it).
 */
async function learnTokens(
  emulator: GenesysEmulator,
  kind: Kind,
  frontends: readonly Frontend[],
): Promise<void> {
  let missing = frontends.length;
  const done = new Promise<void>((resolve) => {
    const stop = emulator.observeGuestSockets((o) => {
      if (o.type !== 'message' || !o.text?.startsWith('w ')) return;
      const frontend = frontends[Number(o.text.slice(2))];
      if (frontend === undefined || frontend.token !== undefined) return;
      frontend.token = o.token;
      if (--missing === 0) {
        stop();
        resolve();
      }
    });
  });
  for (const [i, f] of frontends.entries()) send(kind, f.ws, `w ${i}`);
  await Promise.race([
    done,
    sleep(60_000).then(() => {
      throw new Error(`${missing} sessions never reached the emulator`);
    }),
  ]);
}

/**
 * The measured phase: every session sends `g <i> <k>` once a second and the agent says `a <i> <k>` to it
 * once a second, spread evenly over the second; the first second is warm-up and is not counted.
 */
async function drive(
  emulator: GenesysEmulator,
  kind: Kind,
  frontends: readonly Frontend[],
  seconds: number,
): Promise<{
  toGenesys: number[];
  toGuest: number[];
  sent: number;
  undelivered: number;
  errors: Record<string, number>;
}> {
  const sentAt = new Map<string, number>();
  const toGenesys: number[] = [];
  const toGuest: number[] = [];
  const errors: Record<string, number> = {};
  const warm = (text: string): boolean => text.endsWith(' 0');
  const stopObserving = emulator.observeGuestSockets((o) => {
    if (o.type !== 'message' || !o.text?.startsWith('g ')) return;
    const at = sentAt.get(o.text);
    if (at === undefined) return;
    sentAt.delete(o.text);
    if (!warm(o.text)) toGenesys.push(performance.now() - at);
  });
  for (const f of frontends) {
    f.ws.on('message', (data: Buffer) => {
      const event = JSON.parse(data.toString('utf8')) as { type?: string; text?: string; code?: string };
      if (event.type === 'error') errors[event.code ?? '?'] = (errors[event.code ?? '?'] ?? 0) + 1;
      if (event.type !== 'message' || !event.text?.startsWith('a ')) return;
      const at = sentAt.get(event.text);
      if (at === undefined) return;
      sentAt.delete(event.text);
      if (!warm(event.text)) toGuest.push(performance.now() - at);
    });
  }

  const rounds = seconds + 1;
  const timers: NodeJS.Timeout[] = [];
  const finished = frontends.map(
    (f, i) =>
      new Promise<void>((resolve) => {
        let k = 0;
        const tick = (): void => {
          const guestText = `g ${i} ${k}`;
          sentAt.set(guestText, performance.now());
          send(kind, f.ws, guestText);
          const agentText = `a ${i} ${k}`;
          sentAt.set(agentText, performance.now());
          emulator.agent.say(f.token as string, { from: 'agent', nickname: 'Bench', text: agentText });
          if (++k === rounds) resolve();
          else timers.push(setTimeout(tick, 1000));
        };
        timers.push(setTimeout(tick, (i * 1000) / frontends.length));
      }),
  );
  await Promise.all(finished);
  const deadline = performance.now() + GRACE_MS;
  while (sentAt.size > 0 && performance.now() < deadline) await sleep(50);
  stopObserving();
  for (const timer of timers) clearTimeout(timer);
  // Every message driven, the warm-up round included (it is tracked too; only its latency is left out).
  const sent = 2 * frontends.length * rounds;
  return { toGenesys, toGuest, sent, undelivered: sentAt.size, errors };
}

/** The raw hop: `count` connections to an echo process, one message a second each, half the round trip. */
async function rawHop(url: string, count: number, seconds: number): Promise<PathResult> {
  const sockets = await Promise.all(Array.from({ length: count }, () => open(url)));
  const samples: number[] = [];
  const sentAt = new Map<string, number>();
  for (const ws of sockets) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const at = sentAt.get(text);
      if (at === undefined) return;
      sentAt.delete(text);
      if (!text.endsWith(' 0')) samples.push((performance.now() - at) / 2);
    });
  }
  await Promise.all(
    sockets.map(async (ws, i) => {
      await sleep((i * 1000) / count);
      for (let k = 0; k <= seconds; k++) {
        const text = `h ${i} ${k}`;
        sentAt.set(text, performance.now());
        ws.send(text);
        await sleep(1000);
      }
    }),
  );
  const deadline = performance.now() + GRACE_MS;
  while (sentAt.size > 0 && performance.now() < deadline) await sleep(50);
  for (const ws of sockets) ws.terminate();
  const hop = summarise(samples);
  const sent = count * (seconds + 1);
  return {
    path: 'raw hop',
    sessions: count,
    toGenesys: hop,
    toGuest: hop,
    sent,
    undelivered: sentAt.size,
    errors: {},
  };
}

/** What a relay's report says: its CPU so far and, guest-relay's, its store requests by operation. */
async function usage(relay: Child<unknown>): Promise<{ cpuMs: number; requests: Record<string, number> }> {
  // (guest-relay's report also hands over its trace so far; only the probes read it.)
  const answer = (await relay.ask()) as { cpuMs?: number; dynamoRequests?: Record<string, number> };
  return { cpuMs: answer.cpuMs ?? Number.NaN, requests: answer.dynamoRequests ?? {} };
}

/** One relay (seed or guest-relay) at one size, against a fresh Genesys emulator. */
async function relayRun(
  path: PathResult['path'],
  count: number,
  seconds: number,
  windowMs: number,
  options: { readonly probe: boolean } = { probe: false },
): Promise<PathResult> {
  const emulator = await startGenesysEmulator({ script: null });
  let relay: Child<{ url: string; token?: string }> | undefined;
  let frontends: Frontend[] = [];
  try {
    // Both floors speak the seed relay's frontend protocol.
    const floor = path === 'design floor' || path === 'bare floor';
    const kind: Kind = path === 'seed relay' || floor ? 'seed' : 'stack';
    relay =
      path === 'seed relay'
        ? await spawnChild('bench/relay/seed-relay.ts', [emulator.wsUrl, emulator.deploymentId])
        : floor
          ? await spawnChild('bench/relay/floor-relay.ts', [
              emulator.wsUrl,
              emulator.deploymentId,
              path === 'bare floor' ? 'bare' : 'design',
            ])
          : await spawnChild('bench/relay/local-stack.ts', [
              emulator.wsUrl,
              emulator.httpUrl,
              emulator.deploymentId,
              String(windowMs),
            ]);
    const url =
      relay.info.token === undefined
        ? relay.info.url
        : `${relay.info.url}?token=${encodeURIComponent(relay.info.token)}`;
    frontends = await bringUp(kind, url, count);
    await learnTokens(emulator, kind, frontends);
    // Every session just sent at once: let what that set off settle before measuring the steady state.
    await sleep(SETTLE_MS);
    const before = await usage(relay);
    const run = await drive(emulator, kind, frontends, seconds);
    const after = await usage(relay);
    const driven = 2 * count * (seconds + 1);
    const perMessage = Object.fromEntries(
      Object.entries(after.requests).map(([op, n]) => [op, (n - (before.requests[op] ?? 0)) / driven]),
    );
    // Once per run, at the first size, without the window (it would hold each probe 300 ms, and whatever
    // else the stack does in that time would count), and on a stack quiet again after the phase.
    const first = frontends[0];
    const probe = kind === 'stack' && options.probe && first !== undefined;
    if (probe) await sleep(SETTLE_MS);
    const inSequence = probe ? await probeSequence(emulator, relay, first) : undefined;
    return {
      cpuPerMessageMs: (after.cpuMs - before.cpuMs) / driven,
      ...(path === 'seed relay' ? {} : { storeRequestsPerMessage: perMessage }),
      ...(inSequence === undefined ? {} : { inSequence }),
      path,
      sessions: count,
      toGenesys: summarise(run.toGenesys),
      toGuest: summarise(run.toGuest),
      sent: run.sent,
      undelivered: run.undelivered,
      errors: run.errors,
    };
  } catch (error) {
    // An overloaded relay can fail to bring every session up in time: report it, keep benchmarking.
    const none = summarise([]);
    const failure = error instanceof Error ? error.message : String(error);
    return {
      path,
      sessions: count,
      toGenesys: none,
      toGuest: none,
      sent: 0,
      undelivered: 0,
      errors: {},
      failure,
    };
  } finally {
    for (const f of frontends) f?.ws.terminate();
    await relay?.stop();
    await emulator.close();
  }
}

/** Every path at every size, then the figures. */
export async function measureRelayLatency(
  options: RelayLatencyOptions,
): Promise<{ figures: Figure[]; runs: PathResult[] }> {
  const runs: PathResult[] = [];
  const paths = new Set(options.paths ?? DEFAULT_PATHS);
  if (paths.has('raw')) {
    const echo = await spawnChild<{ url: string }>('bench/relay/echo-server.ts');
    try {
      for (const n of options.sessions) runs.push(await rawHop(echo.info.url, n, options.seconds));
    } finally {
      await echo.stop();
    }
  }
  for (const n of paths.has('seed') ? options.sessions : []) {
    runs.push(await relayRun('seed relay', n, options.seconds, 0));
  }
  for (const n of paths.has('bare') ? options.sessions : []) {
    runs.push(await relayRun('bare floor', n, options.seconds, 0));
  }
  for (const n of paths.has('floor') ? options.sessions : []) {
    runs.push(await relayRun('design floor', n, options.seconds, 0));
  }
  for (const [i, n] of (paths.has('relay') ? options.sessions : []).entries()) {
    runs.push(await relayRun('guest-relay', n, options.seconds, 0, { probe: i === 0 }));
  }
  if (paths.has('window')) {
    const n = options.sessions.includes(100) ? 100 : (options.sessions[0] ?? 1);
    runs.push(await relayRun('guest-relay, 300 ms window', n, options.seconds, DEFAULT_WINDOW_MS));
  }
  return { figures: figuresOf(runs), runs };
}

function figuresOf(runs: readonly PathResult[]): Figure[] {
  const figures: Figure[] = [];
  const find = (path: PathResult['path'], n: number) => runs.find((r) => r.path === path && r.sessions === n);
  for (const run of runs) {
    const n = run.sessions;
    const directions =
      run.path === 'raw hop'
        ? ([['one hop', run.toGenesys]] as const)
        : ([
            ['guest → Genesys', run.toGenesys],
            ['Genesys → guest', run.toGuest],
          ] as const);
    const hop = find('raw hop', n)?.toGenesys;
    for (const [direction, summary] of directions) {
      const label = `${run.path}, ${direction}, ${n} session${n === 1 ? '' : 's'}`;
      const isRelay = run.path === 'guest-relay';
      figures.push({
        section: SECTION,
        measure: `${label}, median`,
        value: summary.median,
        unit: 'ms',
        note: `${summary.count} samples`,
      });
      // The targets of the command-path issue (docs/performance.md): p99 at 100 sessions, ratios at 20.
      figures.push({
        section: SECTION,
        measure: `${label}, p99`,
        value: summary.p99,
        unit: 'ms',
        ...(isRelay && n === 100 ? { target: { max: 100 } } : {}),
      });
      if (run.path !== 'raw hop' && hop !== undefined) {
        figures.push({
          section: SECTION,
          measure: `${label}, median ÷ raw hop median`,
          value: summary.median / hop.median,
          unit: '×',
        });
      }
      const seed = find('seed relay', n);
      const isFloor = run.path === 'design floor' || run.path === 'bare floor';
      if ((isRelay || isFloor) && seed !== undefined) {
        const toGenesys = direction === 'guest → Genesys';
        const seedSummary = toGenesys ? seed.toGenesys : seed.toGuest;
        figures.push({
          section: SECTION,
          measure: `${label}, median ÷ seed relay median`,
          value: summary.median / seedSummary.median,
          unit: '×',
          ...(isRelay && n === 20 ? { target: { max: toGenesys ? 6 : 4 } } : {}),
        });
      }
    }
    if (run.path === 'guest-relay, 300 ms window') {
      figures.push({
        section: SECTION,
        measure: `${run.path}, Genesys → guest, ${n} sessions, median − the window`,
        value: run.toGuest.median - DEFAULT_WINDOW_MS,
        unit: 'ms',
        target: { max: 50 },
        note: 'what the window adds beyond holding each push 300 ms',
      });
    }
    if (run.inSequence !== undefined) {
      const label = `${run.path}, store requests in sequence`;
      const { toGenesys, toGuest } = run.inSequence;
      figures.push({
        section: SECTION,
        measure: `${label} before onMessage leaves (median of ${SEQUENCE_PROBES})`,
        value: toGenesys.median,
        unit: 'requests',
        target: { max: 3 },
        note: `highest ${toGenesys.max}; a message at a time, after the measured phase`,
      });
      figures.push({
        section: SECTION,
        measure: `${label} before an agent message is posted (median of ${SEQUENCE_PROBES})`,
        value: toGuest.median,
        unit: 'requests',
        target: { max: 2 },
        note: `highest ${toGuest.max}`,
      });
    }
    if (run.path !== 'raw hop') {
      const refused = Object.values(run.errors).reduce((a, b) => a + b, 0);
      const codes = Object.entries(run.errors).map(([code, count]) => `${count} ${code}`);
      figures.push({
        section: SECTION,
        measure: `${run.path}, ${n} session${n === 1 ? '' : 's'}, delivered`,
        value: run.sent === 0 ? 0 : (100 * (run.sent - run.undelivered)) / run.sent,
        unit: '%',
        target: { min: 100 },
        note:
          run.failure ??
          `${run.sent - run.undelivered} of ${run.sent} within ${GRACE_MS / 1000} s; ${refused === 0 ? 'no error events' : `error events: ${codes.join(', ')}`}`,
      });
      // Per message only means something when every message went through within the phase.
      const cpu = run.undelivered === 0 ? run.cpuPerMessageMs : undefined;
      if (cpu !== undefined && Number.isFinite(cpu)) {
        const seedCpu = run.path === 'seed relay' ? undefined : find('seed relay', n)?.cpuPerMessageMs;
        figures.push({
          section: SECTION,
          measure: `${run.path}, ${n} session${n === 1 ? '' : 's'}, CPU per message`,
          value: cpu,
          unit: 'ms',
          note:
            seedCpu === undefined || !Number.isFinite(seedCpu)
              ? "the relay's process, every thread, over the measured phase"
              : `${(cpu / seedCpu).toFixed(1)} × the seed relay's; the relay's process, every thread`,
        });
      }
      const perMessage = run.undelivered === 0 ? run.storeRequestsPerMessage : undefined;
      if (perMessage !== undefined && Object.keys(perMessage).length > 0) {
        const ops = Object.entries(perMessage)
          .filter(([, n]) => n >= 0.05)
          .sort((a, b) => b[1] - a[1])
          .map(([op, n]) => `${op} ${n.toFixed(1)}`);
        figures.push({
          section: SECTION,
          measure: `${run.path}, ${n} session${n === 1 ? '' : 's'}, store requests per message`,
          value: Object.values(perMessage).reduce((a, b) => a + b, 0),
          unit: 'requests',
          ...(run.path === 'guest-relay' ? { target: { max: 5.5 } } : {}),
          note: ops.join(', '),
        });
      }
      if (run.path === 'guest-relay' && n === 100) {
        figures.push({
          section: SECTION,
          measure: `${run.path}, ${n} sessions, service_unavailable answers`,
          value: run.errors.service_unavailable ?? 0,
          unit: 'events',
          target: { max: 0 },
        });
      }
    }
  }
  figures.push({
    section: SECTION,
    measure: 'reorder window (configured; excluded from the transport figures above)',
    value: DEFAULT_WINDOW_MS,
    unit: 'ms',
    note: 'holds Genesys pushes to order them; see the 300 ms window rows',
  });
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '20,100,500' },
      seconds: { type: 'string', default: '10' },
      paths: { type: 'string', default: DEFAULT_PATHS.join(',') },
    },
  });
  const paths = (values.paths ?? '').split(',') as PathKey[];
  const sessions = (values.sessions ?? '').split(',').map(Number);
  const seconds = Number(values.seconds);
  if (
    !sessions.every((n) => Number.isSafeInteger(n) && n > 0) ||
    !(seconds > 0) ||
    !paths.every((p) => PATHS.includes(p))
  ) {
    console.error(
      `--sessions takes whole numbers > 0 separated by commas, --seconds a number > 0, --paths some of ${PATHS.join(',')}`,
    );
    process.exit(2);
  }
  const { figures, runs } = await measureRelayLatency({ sessions, seconds, paths });
  console.log(formatTable(figures));
  console.log(`Written ${await writeResults('relay', figures, { sessions, seconds, runs })}`);
}
