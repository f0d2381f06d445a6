/**
 * Log keys that belong to one invocation. A Lambda container runs one invocation at a time, so the
 * middlewares add a request's keys (connectionId, routeKey, …) to the shared logger and remove them at
 * the end. Local mode runs the same handlers in one process, many at once: there the keys of one request
 * would land on another's lines. This logger keeps them per invocation (AsyncLocalStorage): inside
 * `run`, `appendKeys`/`removeKeys` change only that invocation's keys, and its lines carry them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { WsLog } from './types.js';

export interface RequestScopedLog extends WsLog {
  /** Runs one invocation with keys of its own. */
  run<T>(invocation: () => T): T;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

export function requestScopedLog(base: WsLog): RequestScopedLog {
  const storage = new AsyncLocalStorage<Record<string, unknown>>();
  const level =
    (name: Level) =>
    (...args: Parameters<WsLog['info']>): void => {
      const keys = storage.getStore();
      const [message, ...extra] = args;
      if (keys === undefined || Object.keys(keys).length === 0) {
        base[name](message, ...(extra as never[]));
        return;
      }
      // The invocation's keys first; what the call passes (attributes, an error) after, as given.
      base[name](message, { ...keys }, ...(extra as never[]));
    };
  return {
    run: (invocation) => storage.run({}, invocation),
    debug: level('debug'),
    info: level('info'),
    warn: level('warn'),
    error: level('error'),
    appendKeys: (keys) => {
      const own = storage.getStore();
      if (own === undefined) base.appendKeys(keys);
      else Object.assign(own, keys);
    },
    removeKeys: (keys) => {
      const own = storage.getStore();
      if (own === undefined) base.removeKeys(keys);
      else for (const key of keys) delete own[key];
    },
  };
}
