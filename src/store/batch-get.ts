/**
 * Consistent BatchGetItem reads of the sessions table (session items, a send's key marker), however many
 * keys: 100 keys a request (DynamoDB's limit), and the keys the engine leaves unprocessed (throttling)
 * asked again, at most `rounds` requests per 100, `pauseMs` before the second and doubling after. What is
 * still unprocessed then is returned: whether that is an error (a session read) or counts one way or the
 * other (the quota's reconciliation) is the caller's to say. It names its table itself, so that the IAM
 * check of the code (test/infra/code-access.ts) sees which table it reads.
 */

import { BatchGetCommand } from './document.js';
import type { StoreError } from './errors.js';
import type { StoreContext } from './store-context.js';

/** Keys one BatchGetItem may ask for. */
export const BATCH_GET_MAX = 100;

export interface BatchGetOptions {
  /** Only these attributes (a ProjectionExpression and its names), or the whole items. */
  readonly projection?: { readonly expression: string; readonly names?: Readonly<Record<string, string>> };
  /** Requests per 100 keys at most (>= 1). */
  readonly rounds: number;
  /** The pause before the second request of a round trip (0: none), doubling after. */
  readonly pauseMs: number;
  /** The engine's error, as the caller reports it. */
  readonly mapError: (error: unknown) => StoreError;
}

export async function batchGetSessions(
  ctx: StoreContext,
  keys: readonly Record<string, unknown>[],
  options: BatchGetOptions,
): Promise<{ items: Record<string, unknown>[]; unprocessed: Record<string, unknown>[] }> {
  const table = ctx.tables.sessions;
  const { projection } = options;
  const items: Record<string, unknown>[] = [];
  const unprocessed: Record<string, unknown>[] = [];
  for (let first = 0; first < keys.length; first += BATCH_GET_MAX) {
    let ask: Record<string, unknown>[] = keys.slice(first, first + BATCH_GET_MAX);
    for (let round = 0; ask.length > 0 && round < options.rounds; round++) {
      const pause = round === 0 ? 0 : options.pauseMs * 2 ** (round - 1);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      try {
        const answer = await ctx.db.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: ask,
                ConsistentRead: true,
                ...(projection === undefined
                  ? {}
                  : {
                      ProjectionExpression: projection.expression,
                      ...(projection.names === undefined
                        ? {}
                        : { ExpressionAttributeNames: projection.names }),
                    }),
              },
            },
          }),
        );
        items.push(...(answer.Responses?.[table] ?? []));
        ask = answer.UnprocessedKeys?.[table]?.Keys ?? [];
      } catch (error) {
        throw options.mapError(error);
      }
    }
    unprocessed.push(...ask);
  }
  return { items, unprocessed };
}
