/**
 * The chaos run's faults: a seeded plan (which kinds, at which point of the traffic) and the injector
 * that applies them to the running system and counts, per kind, how often it was injected and what took
 * effect. Upstream faults go through the Genesys emulator's fault hooks (src/genesys/emulator/faults.ts),
 * frontend drops through the gateway emulator's `dropConnections`, the worker kill through SIGKILL of a
 * worker process. Used by bench/chaos/run.ts.
 */

import type { EmulatedSystem } from '../../local/system.js';
import type { WorkerProcess } from '../../local/worker-process.js';
import type { FaultInjector, FaultState } from '../../src/genesys/emulator/index.js';
import type { Random } from '../support/random.js';
import { sleep } from '../support/stats.js';
import type { ChaosFrontend } from './frontend.js';

export const FAULT_KINDS = [
  'upstreamDrop',
  'force429',
  'reorderPushes',
  'duplicatePushes',
  'frontendDrop',
  'midSendDrop',
  'workerKill',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * `injected`: times the fault was applied or armed. `fired`: what took effect: upstream sockets dropped,
 * 429s answered, sessions whose next pushes were held and reversed, pushes delivered twice, frontend
 * connections cut (also mid-send), workers killed.
 */
export interface FaultTally {
  injected: number;
  fired: number;
}

/** What the fired counts of each kind mean, for the printed table. */
export const FIRED_MEANS: Readonly<Record<FaultKind, string>> = {
  upstreamDrop: 'upstream sockets dropped',
  force429: '429s answered',
  reorderPushes: 'sessions spoken to while armed',
  duplicatePushes: 'pushes delivered twice',
  frontendDrop: 'frontend connections cut',
  midSendDrop: 'connections cut right after a send',
  workerKill: 'workers SIGKILLed',
};

export interface PlannedFault {
  /** Fraction of all rounds completed when the fault fires. */
  readonly at: number;
  readonly kind: FaultKind;
}

/** Where in the traffic planned faults fall: not before it is under way, not after its last stretch. */
const EARLIEST = 0.1;
const LATEST = 0.75;
/** The worker dies in the middle of the traffic. */
const KILL_AT = 0.5;

/**
 * Every kind at least once (the worker kill only with two workers or more, once, in the middle), then
 * random kinds up to `count`, at random points of the traffic.
 */
export function planFaults(random: Random, count: number, workers: number): PlannedFault[] {
  const kinds = FAULT_KINDS.filter((k) => k !== 'workerKill');
  const chosen = [...kinds];
  while (chosen.length < count) chosen.push(random.pick(kinds));
  const plan: PlannedFault[] = random
    .shuffle(chosen)
    .map((kind) => ({ at: EARLIEST + random.next() * (LATEST - EARLIEST), kind }));
  if (workers >= 2) plan.push({ at: KILL_AT, kind: 'workerKill' });
  return plan.sort((a, b) => a.at - b.at);
}

/** The emulator's fault state, read in-process (what GET /emulator/faults serves), so counts are exact. */
function faultState(faults: FaultInjector): FaultState {
  const layer = faults as FaultInjector & { state?: () => FaultState };
  if (typeof layer.state !== 'function') throw new Error('the Genesys emulator exposes no fault state');
  return layer.state();
}

/** One conversation as the injector sees it. */
export interface Target {
  readonly frontend: ChaosFrontend;
  readonly sessionId: string;
  readonly token: string;
  /** Set when reorderPushes is armed; the next agent message clears it and counts the fault as fired. */
  reorderArmed: boolean;
}

export interface KilledWorker {
  readonly name: string;
  /** Sessions it owned when it was killed. */
  readonly sessions: number;
  /** From the kill until every one of them had a live new owner; undefined if that never happened. */
  takeoverMs: number | undefined;
}

/** A drop that finds nothing connected tries again this often, this many times. */
const RETRIES = 50;
const RETRY_MS = 100;

/** Upstream drop codes: 1006 (cut, no close frame), and close frames a server sends when it goes away. */
const DROP_CODES: readonly (number | undefined)[] = [undefined, 1011, 1001];

export class Injector {
  readonly tally: Record<FaultKind, FaultTally> = Object.fromEntries(
    FAULT_KINDS.map((kind) => [kind, { injected: 0, fired: 0 }]),
  ) as Record<FaultKind, FaultTally>;
  killed: KilledWorker | undefined;
  /** Resolves when the killed worker's sessions all have new owners (or never, bounded by the run). */
  takeover: Promise<void> = Promise.resolve();
  readonly #system: EmulatedSystem;
  readonly #workers: WorkerProcess[];
  readonly #targets: readonly Target[];
  readonly #random: Random;
  #armed429 = 0;
  #armedDuplicates = 0;
  #midSendBudget = 0;
  #stopped = false;

  constructor(system: EmulatedSystem, workers: WorkerProcess[], targets: readonly Target[], random: Random) {
    this.#system = system;
    this.#workers = workers;
    this.#targets = targets;
    this.#random = random;
  }

  async fire(kind: FaultKind): Promise<void> {
    this.tally[kind].injected++;
    switch (kind) {
      case 'upstreamDrop':
        return this.#dropUpstream();
      case 'force429':
        return this.#force429();
      case 'reorderPushes':
        return this.#reorder();
      case 'duplicatePushes':
        return this.#duplicate();
      case 'frontendDrop':
        return this.#dropFrontends();
      case 'midSendDrop':
        this.#midSendBudget++;
        return;
      case 'workerKill':
        return this.#killBusiest();
    }
  }

  /** The frontend hook: cuts the connection of the next send(s) while the mid-send budget lasts. */
  onTransmit(frontend: ChaosFrontend): void {
    if (this.#midSendBudget === 0) return;
    this.#midSendBudget--;
    // A few ms later, so that some frames are handled (stored, answer lost) and some are not.
    setTimeout(
      () => {
        const cut = this.#system.publicApi.dropConnections((c) => c.userAgent === frontend.label);
        this.tally.midSendDrop.fired += cut.length;
      },
      this.#random.int(0, 5),
    );
  }

  /** Agent messages call this: the first one of a session after reorderPushes was armed was held. */
  spoke(target: Target): void {
    if (!target.reorderArmed) return;
    target.reorderArmed = false;
    this.tally.reorderPushes.fired++;
  }

  /** Ends the takeover watch (the run is over or out of time). */
  stop(): void {
    this.#stopped = true;
  }

  /** Counts what the emulator's armed faults consumed, then turns every fault off. */
  finish(): void {
    this.#count429();
    this.#countDuplicates();
    this.#system.emulator.faults.reset();
    for (const target of this.#targets) target.reorderArmed = false;
  }

  /**
   * Drops the upstream sockets of about a third of the sessions (or, sometimes, of all). Sessions without
   * a socket at that moment (reconnecting, or owned by a dead worker) are skipped; if none has one, the
   * drop waits for sockets to come back, so that it always hits something.
   */
  async #dropUpstream(): Promise<void> {
    const { emulator } = this.#system;
    const code = this.#random.pick(DROP_CODES);
    const everyone = this.#random.chance(0.3);
    for (let attempt = 0; attempt < RETRIES && !this.#stopped; attempt++) {
      const connected = new Set(
        emulator
          .sessions()
          .filter((s) => s.connectedSockets > 0)
          .map((s) => s.token),
      );
      const targets = this.#targets.filter((t) => connected.has(t.token));
      if (targets.length > 0) {
        const hit = everyone ? [undefined] : this.#some(targets).map((t) => t.token);
        for (const token of hit) this.tally.upstreamDrop.fired += emulator.faults.dropSockets(token, code);
        return;
      }
      await sleep(RETRY_MS);
    }
  }

  #force429(): void {
    this.#count429();
    this.#armed429 = this.#random.int(2, Math.max(2, Math.ceil(this.#targets.length / 2)));
    this.#system.emulator.faults.force429(this.#armed429, 1);
  }

  #count429(): void {
    this.tally.force429.fired += this.#armed429 - faultState(this.#system.emulator.faults).forced429Left;
    this.#armed429 = 0;
  }

  #reorder(): void {
    this.#system.emulator.faults.reorderPushes(this.#random.int(2, 4));
    for (const target of this.#targets) target.reorderArmed = true;
  }

  #duplicate(): void {
    this.#countDuplicates();
    this.#armedDuplicates = this.#random.int(2, Math.max(2, this.#targets.length));
    this.#system.emulator.faults.duplicatePushes(this.#armedDuplicates);
  }

  #countDuplicates(): void {
    const left = faultState(this.#system.emulator.faults).duplicatePushesLeft;
    this.tally.duplicatePushes.fired += this.#armedDuplicates - left;
    this.#armedDuplicates = 0;
  }

  /** Cuts the connections of about a third of the frontends (of those connected: waits for one). */
  async #dropFrontends(): Promise<void> {
    const api = this.#system.publicApi;
    for (let attempt = 0; attempt < RETRIES && !this.#stopped; attempt++) {
      const connected = new Set(api.connections().map((c) => c.userAgent));
      const targets = this.#targets.filter((t) => connected.has(t.frontend.label));
      if (targets.length > 0) {
        const labels = new Set(this.#some(targets).map((t) => t.frontend.label));
        this.tally.frontendDrop.fired += api.dropConnections((c) => labels.has(c.userAgent ?? '')).length;
        return;
      }
      await sleep(RETRY_MS);
    }
  }

  /** About a third of `targets`, at least one. */
  #some(targets: readonly Target[]): Target[] {
    const count = Math.max(1, Math.round(targets.length / 3));
    return this.#random.shuffle(targets).slice(0, count);
  }

  /** SIGKILLs the worker owning the most sessions and watches its sessions move. */
  async #killBusiest(): Promise<void> {
    const owners = await Promise.all(this.#targets.map((t) => this.#system.owner(t.sessionId)));
    const live = this.#workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const load = (w: WorkerProcess) => owners.filter((o) => o === w.name).length;
    const victim = [...live].sort((a, b) => load(b) - load(a) || a.name.localeCompare(b.name))[0];
    if (victim === undefined || live.length < 2) return;
    const moved = this.#targets.filter((_, i) => owners[i] === victim.name).map((t) => t.sessionId);
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    const killed: KilledWorker = { name: victim.name, sessions: moved.length, takeoverMs: undefined };
    this.killed = killed;
    this.tally.workerKill.fired++;
    const survivors = new Set(live.filter((w) => w !== victim).map((w) => w.name));
    this.takeover = this.#watchTakeover(moved, survivors).then(
      (done) => {
        if (done) killed.takeoverMs = Date.now() - killedAt;
      },
      () => {
        // The store went away (the run ended): the takeover stays unmeasured.
      },
    );
  }

  /** True once every session has a surviving owner; false if the run stopped first. */
  async #watchTakeover(sessionIds: readonly string[], survivors: ReadonlySet<string>): Promise<boolean> {
    while (!this.#stopped) {
      const owners = await Promise.all(sessionIds.map((id) => this.#system.owner(id)));
      if (owners.every((o) => o !== undefined && survivors.has(o))) return true;
      await sleep(RETRY_MS);
    }
    return false;
  }
}
