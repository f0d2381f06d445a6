import type { MiddlewareObj } from '@middy/core';
import type { ChannelConstraints } from '../../src/domain/constraints.js';
import { withDefaults } from '../../src/domain/options.js';
import type { Log } from '../../src/logging/log.js';
import {
  type ClientAction,
  type ClientFrame,
  ProtocolError,
  parseClientFrame,
  serializeEvent,
} from '../../src/protocol/index.js';
import type { RefusalTally } from './refusal-tally.js';
import type { WsEvent, WsFrameEvent, WsRouteResponse } from './types.js';
import { invocationKeys } from './ws-logger.js';

export interface WsBodyParserOptions<TAction extends ClientAction = ClientAction> {
  /**
   * The actions this route takes. API Gateway routes on `action`, so a mismatch only happens on
   * `$default`; it is answered with `unknown_action`. Default: every action.
   */
  readonly actions: readonly TAction[] | undefined;
  /** Bounds to check frames against; default the protocol's own ceilings (session bounds come later). */
  readonly constraints: ChannelConstraints | undefined;
  /** Where each refused frame is logged, at `debug` (its code only, never its content). */
  readonly logger: Pick<Log, 'debug'> | undefined;
  /** Counts refused frames for the periodic summary (refusal-tally.ts). */
  readonly refusals: Pick<RefusalTally, 'count'> | undefined;
}

const defaults: WsBodyParserOptions = {
  actions: undefined,
  constraints: undefined,
  logger: undefined,
  refusals: undefined,
};

/**
 * Parses `event.body` with the protocol's parser and puts the typed frame on `event.frame`. A frame
 * that does not parse is answered with exactly one `error` event as the route response, and the
 * handler is not called.
 */
export function wsBodyParser<TAction extends ClientAction = ClientAction>(
  options: Partial<WsBodyParserOptions<TAction>> = {},
): MiddlewareObj<WsFrameEvent<Extract<ClientFrame, { action: TAction }>>, WsRouteResponse> {
  const { actions, constraints, logger, refusals } = withDefaults(
    'wsBodyParser',
    defaults as WsBodyParserOptions<TAction>,
    options,
  );
  const refuse = (event: WsEvent, error: ProtocolError): WsRouteResponse => {
    refusals?.count(error.code);
    logger?.debug('frame refused', {
      ...invocationKeys(event),
      code: error.code,
      action: error.action ?? null,
    });
    return { statusCode: 200, body: serializeEvent(error.toEvent()) };
  };

  return {
    name: 'wsBodyParser',
    before: (request) => {
      const event: WsEvent = request.event;
      const body = event.body ?? '';
      const raw = event.isBase64Encoded ? new Uint8Array(Buffer.from(body, 'base64')) : body;
      const result = parseClientFrame(raw, constraints === undefined ? {} : { constraints });
      if (!result.ok) return refuse(event, result.error);
      const { frame } = result;
      if (actions !== undefined && !(actions as readonly ClientAction[]).includes(frame.action)) {
        return refuse(
          event,
          new ProtocolError('unknown_action', `This route does not take "${frame.action}".`, {
            action: frame.action,
            ...('clientMessageId' in frame ? { clientMessageId: frame.clientMessageId } : {}),
          }),
        );
      }
      request.event.frame = frame as Extract<ClientFrame, { action: TAction }>;
      return undefined;
    },
  };
}
