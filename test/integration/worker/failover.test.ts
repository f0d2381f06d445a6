/**
 * The worker issue's acceptance, with workers as real processes: SIGKILL, SIGTERM, SIGSTOP, a control
 * API outage, and upstream drops and 429s during traffic. Every transcript is checked against what each
 * side really sent: the guest's texts (through the public API) and the agent's (through the emulator).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { EXECUTOR_DEFAULTS } from '../../../src/commands/executor.js';
import { UpdateCommand } from '../../../src/store/document.js';
import { sessionKey } from '../../../src/store/sessions.js';
import {
  DEFAULT_TIMING,
  type Guest,
  is,
  type System,
  sleep,
  startSystem,
  type WorkerProcess,
  waitUntil,
} from './harness.js';

/** One conversation and the ground truth of what each side sent. */
interface Conversation {
  readonly guest: Guest;
  readonly sessionId: string;
  readonly token: string;
  readonly guestSaid: string[];
  readonly agentSaid: string[];
}

async function openConversations(system: System, count: number): Promise<Conversation[]> {
  const conversations: Conversation[] = [];
  for (let i = 0; i < count; i++) {
    const guest = await system.guest();
    const sessionId = await guest.start();
    await guest.waitFor(
      is('connect', (e) => e.status === 'active'),
      15_000,
    );
    conversations.push({
      guest,
      sessionId,
      token: await system.tokenOf(sessionId),
      guestSaid: [],
      agentSaid: [],
    });
  }
  return conversations;
}

/**
 * Waits until every conversation is complete; on timeout the error says, for each incomplete one, what
 * its transcript holds and what the owner's item still has pending (a flaky run explains itself).
 */
async function untilComplete(
  system: System,
  conversations: readonly Conversation[],
  timeoutMs: number,
  what: string,
): Promise<void> {
  try {
    await waitUntil(
      async () => (await Promise.all(conversations.map((c) => complete(system, c)))).every(Boolean),
      timeoutMs,
      what,
    );
  } catch (error) {
    const states: string[] = [];
    for (const c of conversations) {
      if (await complete(system, c)) continue;
      const entries = await system.transcript(c.sessionId);
      const item = await system.relay.deps.sessions.get(c.sessionId);
      states.push(
        `${c.sessionId} owner ${item?.ownerId}@${item?.epoch} pending [${Object.keys(item?.pending ?? {})}] ` +
          `entries ${JSON.stringify(entries.map((e) => [e.seq, e.direction, e.status]))}`,
      );
    }
    throw new Error(`${(error as Error).message}; incomplete: ${states.join('; ')}`);
  }
}

/** One round: every guest sends one message and the agent answers each once. */
async function round(system: System, conversations: readonly Conversation[], n: number): Promise<void> {
  await Promise.all(
    conversations.map(async (c, i) => {
      const text = `guest ${i} message ${n}`;
      c.guestSaid.push(text);
      const reply = `agent ${i} reply ${n}`;
      c.agentSaid.push(reply);
      system.emulator.agent.say(c.token, { from: 'agent', nickname: 'Sam', text: reply });
      await c.guest.send(text, `s${i}-m${n}`);
    }),
  );
}

/**
 * The worker's write count once it has stopped moving: unchanged for longer than the owner's latest
 * deferred write (a settlement or the idle clear, at most 1.5 × EXECUTOR_DEFAULTS' delays after the last
 * work), so that no write that was already due lands after the caller reads the count.
 */
async function settledWrites(worker: WorkerProcess): Promise<number> {
  const quietMs = 1.5 * Math.max(EXECUTOR_DEFAULTS.settleDelayMs, EXECUTOR_DEFAULTS.idleAfterMs) + 500;
  let last = -1;
  let since = Date.now();
  for (;;) {
    const writes = (await worker.health()).counters.writes;
    if (writes !== last) {
      last = writes;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return writes;
    await sleep(400);
  }
}

/** Complete: every guest message sent and every agent message stored. */
async function complete(system: System, c: Conversation): Promise<boolean> {
  const entries = await system.transcript(c.sessionId);
  const guest = entries.filter((e) => e.direction === 'guest');
  const agent = entries.filter((e) => e.direction === 'agent');
  return (
    guest.length >= c.guestSaid.length &&
    guest.every((e) => e.status === 'sent') &&
    agent.length >= c.agentSaid.length
  );
}

/** In order, once each, gap-free, and Genesys got each guest message exactly once. */
async function expectExact(system: System, c: Conversation): Promise<void> {
  const entries = await system.transcript(c.sessionId);
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  expect(entries.filter((e) => e.direction === 'guest').map((e) => e.text)).toEqual(c.guestSaid);
  expect(entries.filter((e) => e.direction === 'agent').map((e) => e.text)).toEqual(c.agentSaid);
  const ids = entries.map((e) => e.genesysId);
  expect(new Set(ids).size).toBe(ids.length);
  const upstream = system.emulator
    .transcript(c.token)
    .filter((m) => m.direction === 'Inbound')
    .map((m) => m.text);
  expect(upstream).toEqual(c.guestSaid);
}

async function ownersOf(
  system: System,
  conversations: readonly Conversation[],
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const c of conversations) owners.set(c.sessionId, (await system.owner(c.sessionId)) ?? '?');
  return owners;
}

function busiest(workers: readonly WorkerProcess[], owners: Map<string, string>): WorkerProcess {
  const load = (w: WorkerProcess) => [...owners.values()].filter((id) => id === w.name).length;
  return [...workers].sort((a, b) => load(b) - load(a))[0] as WorkerProcess;
}

function noSecretsIn(workers: readonly WorkerProcess[], tokens: readonly string[]): void {
  const text = workers.map((w) => JSON.stringify(w.logs) + w.stderr.join('')).join('\n');
  for (const token of tokens) expect(text).not.toContain(token);
}

describe('worker failover (multi-process)', () => {
  let system: System | undefined;
  afterEach(async () => {
    await system?.close();
    system = undefined;
  });

  it('SIGKILL: three workers, 30 sessions; the dead worker’s sessions move within 15 s and nothing is lost', async ({
    annotate,
  }) => {
    // The default timing: "within 15 s" is about what a deployment gets.
    system = await startSystem({ timing: DEFAULT_TIMING });
    const s = system;
    const workers = [await s.spawnWorker('w-a'), await s.spawnWorker('w-b'), await s.spawnWorker('w-c')];
    const conversations = await openConversations(s, 30);
    await round(s, conversations, 1);
    await round(s, conversations, 2);
    await sleep(300);
    const before = await ownersOf(s, conversations);
    const victim = busiest(workers, before);
    const victimSessions = [...before].filter(([, owner]) => owner === victim.name).map(([id]) => id);
    expect(victimSessions.length).toBeGreaterThan(0);

    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    await round(s, conversations, 3);
    await sleep(500);
    await round(s, conversations, 4);
    await waitUntil(
      async () => {
        for (const id of victimSessions) {
          const owner = await s.owner(id);
          if (owner === victim.name || owner === 'none' || owner === undefined) return false;
        }
        return true;
      },
      20_000,
      'the dead worker’s sessions have new owners',
    );
    const tookOverAt = Date.now();
    await round(s, conversations, 5);
    await waitUntil(
      async () => (await Promise.all(conversations.map((c) => complete(s, c)))).every(Boolean),
      45_000,
      'every transcript complete',
      250,
    );
    // Measured from the kill: the last of its sessions had a new owner this soon.
    await annotate(
      `takeover after SIGKILL: ${((tookOverAt - killedAt) / 1000).toFixed(1)} s for ${victimSessions.length} sessions`,
    );
    expect(tookOverAt - killedAt).toBeLessThanOrEqual(15_000);
    for (const c of conversations) await expectExact(s, c);
    noSecretsIn(
      workers,
      conversations.map((c) => c.token),
    );
  }, 120_000);

  it('an agent message said while no worker held the socket is stored after the takeover, though the guest kept sending', async () => {
    // Staleness above the client's 10 s backfill slack: the guest's unsent messages, stored with the
    // current time, must not move the backfill's starting point past the agent's message.
    system = await startSystem({
      timing: { heartbeatIntervalMs: 1_000, staleAfterMs: 13_000, sweepIntervalMs: 1_000 },
    });
    const s = system;
    const first = await s.spawnWorker('w-a');
    const [c] = await openConversations(s, 1);
    if (c === undefined) throw new Error('no conversation');
    c.guestSaid.push('before');
    await c.guest.send('before', 'before');
    await waitUntil(() => complete(s, c), 10_000, 'the first message sent');
    await s.spawnWorker('w-b');
    await first.kill('SIGKILL');
    await sleep(1_000);
    const said = 'said while nobody held the socket';
    c.agentSaid.push(said);
    s.emulator.agent.say(c.token, { from: 'agent', nickname: 'Sam', text: said });
    // The guest keeps sending until the session has a new owner.
    for (let n = 1; (await s.owner(c.sessionId)) !== 'w-b'; n++) {
      if (n > 20) throw new Error('no takeover within 30 s');
      c.guestSaid.push(`while down ${n}`);
      await c.guest.send(`while down ${n}`, `down-${n}`);
      await sleep(1_500);
    }
    await waitUntil(() => complete(s, c), 30_000, 'every message stored and sent', 250);
    await expectExact(s, c);
  }, 90_000);

  it('a burst of more than a page of agent messages before a takeover is not numbered again by the backfill', async () => {
    system = await startSystem();
    const s = system;
    const first = await s.spawnWorker('w-a');
    const [c] = await openConversations(s, 1);
    if (c === undefined) throw new Error('no conversation');
    // 80 messages in about 2 s: the backfill after the takeover reaches 10 s before the newest, so all of
    // them, and the transcript's newest page (50) holds only part of them.
    for (let n = 1; n <= 80; n++) {
      const said = `burst ${n}`;
      c.agentSaid.push(said);
      s.emulator.agent.say(c.token, { from: 'agent', nickname: 'Sam', text: said });
      if (n % 10 === 0) await sleep(250);
    }
    await waitUntil(() => complete(s, c), 20_000, 'the burst stored');
    await waitUntil(
      async () => Object.keys((await s.relay.deps.sessions.get(c.sessionId))?.pending ?? {}).length === 0,
      10_000,
      'the burst settled',
    );
    // What the owner's pruning leaves once the settle horizon (60 s) has passed: no settled ids on the
    // item, so only what the new owner reads of the transcript keeps it from numbering a message again.
    await s.relay.ctx.db.send(
      new UpdateCommand({
        TableName: s.relay.ctx.tables.sessions,
        Key: sessionKey(c.sessionId),
        UpdateExpression: 'SET settled = :none',
        ExpressionAttributeValues: { ':none': {} },
      }),
    );
    await s.spawnWorker('w-b');
    await first.kill('SIGKILL');
    await waitUntil(async () => (await s.owner(c.sessionId)) === 'w-b', 20_000, 'the takeover');
    await round(s, [c], 1);
    await waitUntil(() => complete(s, c), 20_000, 'the round after the takeover');
    // Give a second numbering of the burst time to land before comparing.
    await sleep(2_000);
    await expectExact(s, c);
  }, 90_000);

  it('SIGTERM: the stopping worker hands its sessions over with no pause longer than a few seconds', async ({
    annotate,
  }) => {
    system = await startSystem({ timing: DEFAULT_TIMING });
    const s = system;
    const leaving = await s.spawnWorker('w-leaving');
    const conversations = await openConversations(s, 8);
    const staying = await s.spawnWorker('w-staying');
    await round(s, conversations, 1);
    await waitUntil(
      async () => (await Promise.all(conversations.map((c) => complete(s, c)))).every(Boolean),
      15_000,
      'first round done',
    );
    leaving.signal('SIGTERM');
    const stoppedAt = Date.now();
    await round(s, conversations, 2);
    const exitCode = await leaving.exited();
    expect(exitCode).toBe(0);
    const handoverMs = await waitUntil(
      async () => (await Promise.all(conversations.map((c) => complete(s, c)))).every(Boolean),
      15_000,
      'second round done after SIGTERM',
      50,
    );
    // Every message sent during the handover arrived within a few seconds of the signal.
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    await annotate(
      `handover after SIGTERM: every message sent ${(handoverMs / 1000).toFixed(1)} s after the signal`,
    );
    expect(handoverMs).toBeLessThan(5_000);
    for (const c of conversations) expect(await s.owner(c.sessionId)).toBe(staying.name);
    for (const c of conversations) await expectExact(s, c);
    expect((await staying.health()).sessions).toHaveLength(conversations.length);
  }, 60_000);

  it('control connection down while doorbells ring: every command still runs within one sweep interval', async () => {
    let accept = true;
    system = await startSystem({ acceptControl: () => accept });
    const s = system;
    const worker = await s.spawnWorker('w-solo');
    const conversations = await openConversations(s, 3);
    // The control API refuses the worker from now on, and its connection is cut.
    accept = false;
    const controlId = (await worker.health()).controlConnectionId;
    expect(controlId).not.toBeNull();
    await s.relay.deps.controlGateway.delete(controlId as string);
    await waitUntil(async () => (await worker.health()).controlConnectionId === null, 5_000, 'control gone');
    const sentAt = Date.now();
    await round(s, conversations, 1);
    await round(s, conversations, 2);
    const tookMs = await waitUntil(
      async () => (await Promise.all(conversations.map((c) => complete(s, c)))).every(Boolean),
      10_000,
      'commands executed without doorbells',
      50,
    );
    // Two messages per session at 2/s, found by the next sweep.
    expect(tookMs).toBeLessThanOrEqual(s.timing.sweepIntervalMs + 1_500);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    for (const c of conversations) await expectExact(s, c);
    // It comes back: the control API accepts it again and the doorbell path works.
    accept = true;
    await waitUntil(async () => (await worker.health()).controlConnectionId !== null, 15_000, 'control back');
  }, 60_000);

  it('SIGSTOP: a stalled worker whose sessions moved writes nothing after SIGCONT and closes its sockets', async () => {
    system = await startSystem();
    const s = system;
    const stalled = await s.spawnWorker('w-stalled');
    const conversations = await openConversations(s, 5);
    const other = await s.spawnWorker('w-other');
    await round(s, conversations, 1);
    await untilComplete(s, conversations, 15_000, 'first round done');
    const writesBefore = await settledWrites(stalled);
    stalled.signal('SIGSTOP');
    await waitUntil(
      async () => {
        for (const c of conversations) if ((await s.owner(c.sessionId)) !== other.name) return false;
        return true;
      },
      20_000,
      'sessions moved to the other worker',
    );
    await round(s, conversations, 2);
    await untilComplete(s, conversations, 20_000, 'second round done by the other worker');
    stalled.signal('SIGCONT');
    await waitUntil(
      async () => (await stalled.health()).sessions.length === 0,
      10_000,
      'the stalled worker dropped its sessions',
    );
    await round(s, conversations, 3);
    await untilComplete(s, conversations, 20_000, 'third round done');
    const health = await stalled.health();
    expect(health.counters.writes).toBe(writesBefore);
    expect(health.counters.sessionsLost).toBe(conversations.length);
    for (const c of conversations) {
      const session = s.emulator.sessions().find((x) => x.token === c.token);
      expect(session?.connectedSockets).toBe(1);
      await expectExact(s, c);
    }
  }, 90_000);

  it('upstream sockets dropped and 429s forced during traffic: nothing lost or duplicated', async () => {
    system = await startSystem();
    const s = system;
    await s.spawnWorker('w-1');
    await s.spawnWorker('w-2');
    const conversations = await openConversations(s, 6);
    for (let n = 1; n <= 6; n++) {
      await round(s, conversations, n);
      if (n === 2) s.emulator.faults.dropSockets();
      if (n === 3) s.emulator.faults.force429(4);
      if (n === 4) s.emulator.faults.dropSockets(undefined, 1011);
      if (n === 5) s.emulator.faults.duplicatePushes(5);
      await sleep(250);
    }
    await waitUntil(
      async () => (await Promise.all(conversations.map((c) => complete(s, c)))).every(Boolean),
      45_000,
      'every transcript complete',
      250,
    );
    for (const c of conversations) await expectExact(s, c);
  }, 90_000);
});
