/**
 * What a guest session tells its owner, normalised away from Genesys' wire shapes, and the small typed
 * emitter that carries it. A throwing listener is reported to the logger and never breaks the session.
 */
import type { ChannelConstraints } from '../../domain/constraints.js';
import type { UpstreamFailureReason } from '../../domain/upstream-failure.js';
import type { GenesysError } from '../errors.js';
import type { NormalizedContent, Sender } from '../normalize.js';
import type { SessionState } from './states.js';

/** Who wrote an Outbound message: a person, a bot/flow, or Genesys itself (events). */
export type OutboundAuthor = 'agent' | 'bot' | 'system';

/** An agent, bot or system message (Text or Structured, direction Outbound). */
export interface MessageEvent {
  readonly genesysId: string;
  readonly author: OutboundAuthor;
  /** "Text" or "Structured". */
  readonly type: string;
  readonly text?: string;
  readonly content: readonly NormalizedContent[];
  readonly sender?: Sender;
  /** `channel.time` as Genesys gave it (ISO-8601), when it gave one. */
  readonly time?: string;
  /** Genesys' `originatingMessageId`: the message this one answers (quick replies, pickers). */
  readonly originatingMessageId?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** It arrived after a later-timed message had already been emitted (outside the reorder window). */
  readonly late?: true;
  /** It was missed (the socket was down, or another holder had the session: `resumeFrom`) and fetched from the REST history. */
  readonly fromHistory?: true;
}

/** An Inbound (guest) message that Genesys pushed: the echo of one of our sends or of another tab's. */
export interface EchoEvent {
  readonly genesysId: string;
  readonly tracingId?: string;
  /** True when it acknowledged a `send()` of this client. */
  readonly own: boolean;
  readonly type: string;
  readonly text?: string;
  readonly content: readonly NormalizedContent[];
  readonly time?: string;
}

export interface TypingEvent {
  readonly author: OutboundAuthor;
  /** How long to show the indicator; Genesys' default is 5000 ms. 0 for an explicit "Off". */
  readonly durationMs: number;
}

/** Genesys presence types (`Disconnect`, `SignIn`, `Join`, `Clear`, …) in camelCase. */
export type PresenceType =
  | 'join'
  | 'disconnect'
  | 'clear'
  | 'signIn'
  | 'sessionExpired'
  | 'authenticate'
  | 'authenticateCancel'
  | 'authenticateFailure'
  | (string & {});

export interface PresenceEvent {
  readonly author: OutboundAuthor | 'guest';
  readonly type: PresenceType;
  /** On a Disconnect: the conversation became read-only (`metadata.readOnly: "true"`). */
  readonly readOnly?: boolean;
  readonly genesysId?: string;
  readonly time?: string;
  readonly fromHistory?: true;
}

export interface ReceiptEvent {
  /** The id of the guest message the receipt is about (receipts carry the message's own id). */
  readonly messageId: string;
  readonly status: string;
  readonly reasons?: readonly { readonly code?: string; readonly message?: string }[];
}

export type UploadEvent =
  | { readonly attachmentId: string; readonly status: 'uploaded'; readonly downloadUrl?: string }
  | { readonly attachmentId: string; readonly status: 'failed'; readonly error: GenesysError };

export interface ReadyEvent {
  readonly newSession: boolean;
  readonly readOnly: boolean;
  /** True when this SessionResponse followed a reconnect of this client (not the first connect). */
  readonly resumed: boolean;
  readonly constraints: ChannelConstraints;
  /** When Genesys will expire the idle session (epoch ms), when it said. */
  readonly expiresAt?: number;
}

/** Why a session reached a terminal state. */
export type CloseReason =
  /** `close()` or `end()`. */
  | 'closed'
  /** SessionExpiredEvent, 4006 or close code 4006. */
  | 'expired'
  /** ConnectionClosedEvent without a reason: too many connections share the token (reference §7.3). */
  | 'sessionLimit'
  /** ConnectionClosedEvent{reason:"signedIn"}: the guest signed in elsewhere. */
  | 'signedIn'
  /** ConnectionClosedEvent with another reason, or after a SessionClearedEvent / LogoutEvent. */
  | 'connectionClosed'
  /**
   * Genesys refused the session for good (configureSession error, HTTP 4xx on the upgrade), or the
   * upstream broke the client's limits (a frame over MAX_FRAME_BYTES: GENESYS_FRAME_TOO_LARGE).
   */
  | 'rejected';

export interface ClosedEvent {
  readonly reason: CloseReason;
  readonly error?: GenesysError;
}

export interface ReconnectingEvent {
  /** 0-based attempt since the counter last reset. */
  readonly attempt: number;
  readonly delayMs: number;
  /** Why the socket went: a close code, "pong timeout", "connect timeout", … */
  readonly cause: string;
  /** The same, as one of a few reasons a person can act on (failure-reason.ts). */
  readonly reason: UpstreamFailureReason;
  /** The error code or status behind `reason` (`ECONNREFUSED`, `HTTP 503`, `close 1006`). */
  readonly detail: string;
}

/** A problem that did not end the session (an unmatched error frame, a failed backfill, …). */
export interface ErrorEvent {
  readonly error: Error;
  readonly context: string;
}

export interface GuestSessionEvents {
  state: { readonly from: SessionState; readonly to: SessionState };
  ready: ReadyEvent;
  message: MessageEvent;
  echo: EchoEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  receipt: ReceiptEvent;
  upload: UploadEvent;
  reconnecting: ReconnectingEvent;
  expired: Readonly<Record<string, never>>;
  closed: ClosedEvent;
  error: ErrorEvent;
}

export type Listener<T> = (event: T) => void;

/** A few dozen lines of typed pub/sub: `on` returns its own unsubscribe. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(onListenerError: (error: unknown, event: keyof Events) => void) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  /** Drops every listener (after the terminal event, so a finished session holds no closures). */
  clear(): void {
    this.#listeners.clear();
  }
}
