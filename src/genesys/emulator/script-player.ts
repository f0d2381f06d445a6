/**
 * Plays Replies into a session one after another: wait `delayMs`, show typing for `typingMs`, send the
 * message, then disconnect if asked. Replies queued while others play wait their turn. Everything waits
 * on the emulator's clock, and a queue dies with its conversation (cleared, expired, restarted, ended).
 */
import type { Log } from '../../logging/log.js';
import { hasContent, type Reply } from './scripts.js';
import type { Session } from './sessions.js';
import type { Cancel, Timers } from './timers.js';

export interface PlayerTarget {
  readonly timers: Timers;
  readonly logger: Log;
  /** Whether the session can still take agent pushes (not cleared, not expired). */
  isLive(session: Session): boolean;
  /** Sends the reply's message now, and its disconnect if it has one. */
  say(session: Session, reply: Reply): void;
  /** Shown before a reply, by its speaker (a script's replies are the bot's unless they say `agent`). */
  typing(session: Session, durationMs: number, from: 'agent' | 'bot'): void;
}

interface Queue {
  readonly replies: Reply[];
  conversationId: string | undefined;
  cancel: Cancel | undefined;
}

export class ScriptPlayer {
  readonly #target: PlayerTarget;
  readonly #queues = new Map<Session, Queue>();

  constructor(target: PlayerTarget) {
    this.#target = target;
  }

  /** Queues replies for the session; they start at once unless others are still playing. */
  play(session: Session, replies: readonly Reply[]): void {
    if (replies.length === 0) return;
    const conversationId = session.conversation?.id;
    const existing = this.#queues.get(session);
    if (existing && existing.conversationId === conversationId) {
      existing.replies.push(...replies);
      return;
    }
    this.cancel(session);
    this.#queues.set(session, { replies: [...replies], conversationId, cancel: undefined });
    this.#next(session);
  }

  /** Whether replies are queued or playing for the session. */
  busy(session: Session): boolean {
    return this.#queues.has(session);
  }

  cancel(session: Session): void {
    this.#queues.get(session)?.cancel?.();
    this.#queues.delete(session);
  }

  close(): void {
    for (const session of [...this.#queues.keys()]) this.cancel(session);
  }

  #current(session: Session, queue: Queue): boolean {
    if (this.#queues.get(session) !== queue || !this.#target.isLive(session)) return false;
    const id = session.conversation?.id;
    return queue.conversationId === undefined || queue.conversationId === id;
  }

  #next(session: Session): void {
    const queue = this.#queues.get(session);
    if (!queue) return;
    const reply = queue.replies.shift();
    if (!reply || !this.#current(session, queue)) {
      this.cancel(session);
      return;
    }
    const wait = (ms: number, then: () => void): void => {
      if (ms > 0) queue.cancel = this.#target.timers.after(ms, () => this.#step(session, queue, then));
      else this.#step(session, queue, then);
    };
    const send = (): void => {
      if (hasContent(reply) || reply.disconnect) this.#target.say(session, reply);
      queue.conversationId ??= session.conversation?.id;
      if (reply.disconnect) this.cancel(session);
      else this.#next(session);
    };
    wait(reply.delayMs ?? 0, () => {
      if (reply.typingMs === undefined || reply.typingMs === 0) {
        send();
        return;
      }
      this.#target.typing(session, reply.typingMs, reply.from ?? 'bot');
      wait(reply.typingMs, send);
    });
  }

  /** Runs one step if the queue is still current; a step that throws ends the queue, logged. */
  #step(session: Session, queue: Queue, step: () => void): void {
    queue.cancel = undefined;
    if (!this.#current(session, queue)) {
      if (this.#queues.get(session) === queue) this.cancel(session);
      return;
    }
    try {
      step();
    } catch (error) {
      this.#target.logger.warn('emulator script reply failed', error);
      if (this.#queues.get(session) === queue) this.cancel(session);
    }
  }
}
