/**
 * An owner's bookkeeping of settlements (docs/store.md): the commands it carried out that the item does
 * not know yet (they ride on the next write to it), and the names the item keeps in `settled`, each with
 * the moment it may go. The settle horizon counts from the moment the settling write answered, or, for a
 * name the owner found on the item (a takeover, a drain), from its read; so a name stays on the item at
 * least a horizon after it was written, whatever the settling write's delay (claim 4 in docs/store.md).
 * When to write is the owner's (CommandExecutor, and the benches that model it); what to write is here.
 */
import type { Settlement } from './queue.js';
import { settledName } from './types.js';

type Done = Settlement['done'][number];

export class Settlements {
  readonly #horizonMs: number;
  /** Carried out, not written yet: id → what the write says of it. */
  readonly #waiting = new Map<string, Done>();
  /** Name on the item → epoch ms after which it may be pruned. */
  readonly #until = new Map<string, number>();

  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  /** Commands carried out and not yet taken for a write. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** A command carried out: it goes with the next settlement taken. */
  add(done: Done): void {
    this.#waiting.set(done.id, done);
  }

  /** Names read on the item that are not tracked yet: they may go a horizon from `now`. */
  found(names: Iterable<string>, now: number): void {
    for (const name of names) if (!this.#until.has(name)) this.#until.set(name, now + this.#horizonMs);
  }

  /**
   * What the next write settles at `now`: at most `limit` commands carried out (taken off the waiting
   * list) and `limit` names past the horizon; undefined when there is neither.
   */
  take(now: number, limit = Number.POSITIVE_INFINITY): { done: Done[]; prune: string[] } | undefined {
    const prune = this.#due(now, limit);
    if (this.#waiting.size === 0 && prune.length === 0) return undefined;
    const done: Done[] = [];
    for (const item of this.#waiting.values()) {
      if (done.length >= limit) break;
      done.push(item);
    }
    for (const { id } of done) this.#waiting.delete(id);
    return { done, prune };
  }

  /** A settlement whose write failed: its commands wait for the next one (its names are still due). */
  restore(settlement: Settlement | undefined): void {
    for (const done of settlement?.done ?? [])
      if (!this.#waiting.has(done.id)) this.#waiting.set(done.id, done);
  }

  /** `settlement`'s write answered at `now`: what it kept is tracked from then, what it pruned is gone. */
  written(settlement: Settlement, now: number): void {
    for (const done of settlement.done) {
      if (done.keep !== undefined) this.#until.set(settledName(done.id), now + this.#horizonMs);
    }
    for (const name of settlement.prune ?? []) this.#until.delete(name);
  }

  #due(now: number, limit: number): string[] {
    const due: string[] = [];
    for (const [name, until] of this.#until) {
      if (due.length >= limit) break;
      if (now > until) due.push(name);
    }
    return due;
  }
}
