/**
 * The control API's messages: what a worker says on its control connection and what it hears back.
 * Lambdas reach a worker only with a doorbell (src/commands/doorbell.ts); the worker speaks only to learn
 * its own connection id (`register`, which API Gateway does not tell a client) and to stay under the
 * idle timeout (`ping`). DESIGN §2: the control API is a second WebSocket API with IAM authorization.
 */
import * as z from 'zod';
import { doorbellSchema } from '../commands/doorbell.js';

/** worker → control API: "which connection am I?" The answer is a route response (`registered`). */
export const registerFrameSchema = z.object({
  action: z.literal('register'),
  workerId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
});

/** worker → control API: keep the connection out of the 10-minute idle timeout; answered with `pong`. */
export const controlPingFrameSchema = z.object({
  action: z.literal('ping'),
  nonce: z.string().max(64).optional(),
});

export interface RegisteredMessage {
  readonly type: 'registered';
  readonly workerId: string;
  readonly connectionId: string;
}

export interface ControlPongMessage {
  readonly type: 'pong';
  readonly nonce?: string;
  readonly time: string;
}

export interface ControlErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

/** What a worker receives on its control connection. */
export const controlInboundSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('registered'), workerId: z.string(), connectionId: z.string().min(1) }),
  z.object({ type: z.literal('pong'), nonce: z.string().optional(), time: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
  doorbellSchema,
]);

export type ControlInbound = z.infer<typeof controlInboundSchema>;
