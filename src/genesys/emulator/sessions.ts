/**
 * The emulator's state: guest sessions (one per token), their sockets and their conversations. Plain
 * state with small invariants; the protocol lives in guest-api.ts and the operations in core.ts.
 */
import type { WebSocket } from 'ws';
import type { StructuredMessage } from '../responses.js';
import { isoTime } from './frames.js';
import { newUuid } from './ids.js';
import type { Cancel } from './timers.js';

/**
 * Sliding-window rate limit: at most `limit` takes in any 1 s window. Rejected attempts do not count.
 * Pure: `now` is passed in.
 */
export class SlidingWindowLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #taken: number[] = [];

  constructor(limit: number, windowMs = 1000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** 0 when the take is allowed (and counted); otherwise the whole seconds (>= 1) until one would be. */
  take(now: number): number {
    while (this.#taken.length > 0 && (this.#taken[0] ?? 0) <= now - this.#windowMs) this.#taken.shift();
    if (this.#taken.length < this.#limit) {
      this.#taken.push(now);
      return 0;
    }
    const oldest = this.#taken[0] ?? now;
    return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
  }
}

export type ParticipantPurpose = 'customer' | 'acd' | 'workflow' | 'agent';

export interface Participant {
  readonly id: string;
  readonly purpose: ParticipantPurpose;
  readonly name: string;
  /** Participant data: for the customer, the guest's custom attributes plus any set over REST. */
  attributes: Record<string, string>;
  state: 'connected' | 'disconnected';
}

/** One Genesys conversation: created by a guest's first message (or Presence Join) or by the agent. */
export class Conversation {
  readonly id = newUuid();
  readonly token: string;
  readonly startedAt: number;
  /** Every stored message in Genesys order (strictly increasing channel.time). */
  readonly messages: StructuredMessage[] = [];
  /** The custom attributes the guest sent, merged: what `maxCustomDataBytes` is checked against. */
  guestAttributes: Record<string, string> = {};
  readonly participants: Participant[];
  state: 'connected' | 'disconnected' = 'connected';
  /** Whether the bot has greeted (a greeting plays once per conversation). */
  greeted = false;
  #lastTime = Number.NEGATIVE_INFINITY;

  constructor(token: string, now: number) {
    this.token = token;
    this.startedAt = now;
    this.participants = [
      { id: newUuid(), purpose: 'customer', name: 'Guest', attributes: {}, state: 'connected' },
      { id: newUuid(), purpose: 'acd', name: 'Emulator queue', attributes: {}, state: 'connected' },
    ];
  }

  get customer(): Participant {
    return this.participants[0] as Participant;
  }

  /**
   * The next `channel.time`: now, but strictly after the previous message's, so that sorting by time
   * always gives Genesys order (several messages can fall in one millisecond).
   */
  nextTime(now: number): string {
    this.#lastTime = Math.max(now, this.#lastTime + 1);
    return isoTime(this.#lastTime);
  }

  /** The participant for a speaker, added on first use (the platform API lists them). */
  participant(purpose: 'workflow' | 'agent', name: string): Participant {
    const existing = this.participants.find((p) => p.purpose === purpose);
    if (existing) return existing;
    const participant: Participant = { id: newUuid(), purpose, name, attributes: {}, state: 'connected' };
    this.participants.push(participant);
    return participant;
  }

  end(): void {
    this.state = 'disconnected';
    for (const participant of this.participants) participant.state = 'disconnected';
  }
}

/** One guest WebSocket. `session` is set once it has configured. */
export class GuestSocket {
  readonly id = newUuid();
  readonly ws: WebSocket;
  readonly openedAt: number;
  session: Session | undefined;

  constructor(ws: WebSocket, openedAt: number) {
    this.ws = ws;
    this.openedAt = openedAt;
  }
}

/** A guest session: the token, its sockets, its current conversation, expiry and rate window. */
export class Session {
  readonly token: string;
  readonly createdAt: number;
  /** In the order they configured: the first is the oldest (closed first at the connection limit). */
  readonly sockets = new Set<GuestSocket>();
  readonly limiter: SlidingWindowLimiter;
  conversation: Conversation | undefined;
  readOnly = false;
  expired = false;
  expiresAt: number;
  cancelExpiry: Cancel | undefined;

  constructor(token: string, now: number, messagesPerSecond: number, durationSeconds: number) {
    this.token = token;
    this.createdAt = now;
    this.limiter = new SlidingWindowLimiter(messagesPerSecond);
    this.expiresAt = now + durationSeconds * 1000;
  }
}

/** What `sessions()` and the console report about a session. */
export interface EmulatorSessionSnapshot {
  readonly token: string;
  readonly conversationId: string | null;
  readonly connectedSockets: number;
  readonly readOnly: boolean;
  readonly expired: boolean;
  /** The guest's custom attributes in the current conversation, merged. */
  readonly customAttributes: Readonly<Record<string, string>>;
  readonly messageCount: number;
  /** ISO time the session expires if nothing happens. */
  readonly expiresAt: string;
}

export function snapshotOf(session: Session): EmulatorSessionSnapshot {
  return {
    token: session.token,
    conversationId: session.conversation?.id ?? null,
    connectedSockets: session.sockets.size,
    readOnly: session.readOnly,
    expired: session.expired,
    customAttributes: { ...session.conversation?.guestAttributes },
    messageCount: session.conversation?.messages.length ?? 0,
    expiresAt: isoTime(session.expiresAt),
  };
}
