/**
 * The agent's side of a conversation, driven by code (tests) or over HTTP (the console page). Every push
 * goes through the fault layer like a scripted bot's.
 */
import type { StructuredMessage } from '../responses.js';
import type { EmulatorCore } from './core.js';
import { parseReply, type Reply } from './scripts.js';

export interface AgentConsole {
  /**
   * Pushes an Outbound message now. From 'agent': originatingEntity Human with channel.from {nickname};
   * from 'bot' (the default): Bot. `typingMs`/`delayMs` are ignored here (see `play`); a `disconnect`
   * follows the message. Returns the message as the guest receives it.
   *
   * @throws EmulatorError session_not_found, session_expired, conversation_ended (read-only);
   *   ScriptValidationError for an invalid reply.
   */
  say(token: string, reply: Reply): StructuredMessage;
  /** Outbound Typing event `{type:'On', duration}` (default 5000 ms). */
  typing(token: string, durationMs?: number): void;
  /** A Receipt with the referenced message's id (a Genesys id, or the guest's metadata.id). */
  receipt(token: string, messageId: string, status: 'Delivered' | 'Read'): void;
  /**
   * Outbound Presence Disconnect. Read-only by default when the deployment's conversationDisconnect is
   * 'ReadOnly': the message carries metadata.readOnly "true" and the session answers readOnly:true.
   */
  disconnect(token: string, options?: { readOnly?: boolean }): void;
  /** Plays replies as a script would: delays, typing, then the message, in order after any still playing. */
  play(token: string, replies: readonly Reply[]): void;
}

export function createAgentConsole(core: EmulatorCore): AgentConsole {
  return {
    say: (token, reply) => core.say(core.requireSession(token), parseReply(reply)),
    typing: (token, durationMs) => {
      core.typing(core.requireSession(token), durationMs);
    },
    receipt: (token, messageId, status) => {
      core.receipt(core.requireSession(token), messageId, status);
    },
    disconnect: (token, options) => {
      core.disconnect(core.requireSession(token), options?.readOnly);
    },
    play: (token, replies) => {
      const session = core.requireSession(token);
      core.player.play(session, replies.map(parseReply));
    },
  };
}
