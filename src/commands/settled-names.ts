/**
 * What a session item keeps in `settled` (docs/store.md), as its owner tracks it: each name, and when it
 * may go. The settle horizon counts from the moment the settling write answered, or, for a name the owner
 * found on the item (a takeover, a drain), from its read; so a name stays on the item at least a horizon
 * after it was written, whatever the settling write's delay (claim 4 in docs/store.md).
 */
import type { Settlement } from './queue.js';
import { settledName } from './types.js';

export class SettledNames {
  readonly #horizonMs: number;
  /** Name → epoch ms after which it may be pruned. */
  readonly #until = new Map<string, number>();

  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  /** Names read on the item that are not tracked yet: they may go a horizon from `now`. */
  found(names: Iterable<string>, now: number): void {
    for (const name of names) if (!this.#until.has(name)) this.#until.set(name, now + this.#horizonMs);
  }

  /** `settlement`'s write answered at `now`: what it kept is tracked from then, what it pruned is gone. */
  written(settlement: Settlement, now: number): void {
    for (const done of settlement.done) {
      if (done.keep !== undefined) this.#until.set(settledName(done.id), now + this.#horizonMs);
    }
    for (const name of settlement.prune ?? []) this.#until.delete(name);
  }

  /** The names past the horizon at `now`, at most `limit` of them. */
  due(now: number, limit = Number.POSITIVE_INFINITY): string[] {
    const due: string[] = [];
    for (const [name, until] of this.#until) {
      if (due.length >= limit) break;
      if (now > until) due.push(name);
    }
    return due;
  }
}
