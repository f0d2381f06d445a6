/**
 * The emulator's core: sessions, sockets, conversations, and every operation the guest API, the agent
 * console, the script player, the REST endpoints and the fault injector share. One teardown path per
 * socket; every Outbound push goes through the fault layer; every timer through the injected clock.
 */
import { WebSocket } from 'ws';
import type { ChannelConstraints } from '../../domain/constraints.js';
import type { ChannelParty, StructuredMessage } from '../responses.js';
import { AttachmentStore } from './attachments.js';
import { BotTurns } from './bot-behaviour.js';
import { ConsoleHub } from './console-hub.js';
import { EmulatorError } from './errors.js';
import { FaultLayer } from './faults.js';
import {
  type AttachmentInfo,
  disconnectEvent,
  frames,
  isoTime,
  mediaTypeOf,
  outboundMessage,
  receiptMessage,
  type ServerFrame,
  type SessionResponse,
  typingEvent,
} from './frames.js';
import { newOutboundId, newSecret, newUuid, signJwt } from './ids.js';
import type { ResolvedOptions } from './options.js';
import { ScriptPlayer } from './script-player.js';
import { hasContent, type Reply } from './scripts.js';
import {
  Conversation,
  type EmulatorSessionSnapshot,
  type GuestSocket,
  Session,
  snapshotOf,
} from './sessions.js';
import { Timers } from './timers.js';

export interface EmulatorUrls {
  /** 'ws://127.0.0.1:PORT/v1' */
  readonly wsUrl: string;
  /** 'http://127.0.0.1:PORT' */
  readonly httpUrl: string;
  readonly port: number;
}

/** Default agent name when a Reply from 'agent' names none. */
export const DEFAULT_AGENT_NICKNAME = 'Alex';
/** Typing duration when none is given (what Genesys' SDK assumes for a Typing event without one). */
export const DEFAULT_TYPING_MS = 5000;
/** Lifetime of a guest JWT from getJwt. */
export const JWT_LIFETIME_SECONDS = 3600;

/**
 * What happens to guest sockets, as it happens (`at`: the emulator clock): for a benchmark or a test that
 * counts connects and resumes at the server (e.g. the reconnect storm). `configured` with
 * `newSession: false` is a resume.
 */
export type GuestSocketObservation =
  | { readonly type: 'accepted'; readonly at: number }
  | {
      readonly type: 'configured';
      readonly token: string;
      readonly newSession: boolean;
      readonly at: number;
    }
  | { readonly type: 'closed'; readonly token: string | null; readonly code: number; readonly at: number }
  /** A guest message (not an event) was accepted and stored: e.g. the relay-latency benchmark's arrival. */
  | {
      readonly type: 'message';
      readonly token: string;
      readonly text: string | undefined;
      readonly at: number;
    };

export type GuestSocketObserver = (observation: GuestSocketObservation) => void;

export class EmulatorCore {
  readonly options: ResolvedOptions;
  readonly urls: EmulatorUrls;
  readonly timers: Timers;
  readonly constraints: ChannelConstraints;
  readonly organizationId = newUuid();
  readonly sessions = new Map<string, Session>();
  readonly sockets = new Set<GuestSocket>();
  readonly conversations = new Map<string, Conversation>();
  readonly attachments: AttachmentStore;
  readonly faults: FaultLayer;
  readonly hub = new ConsoleHub();
  readonly observers = new Set<GuestSocketObserver>();
  readonly player: ScriptPlayer;
  /** The bot's response time and error rate: decides and counts each answer to a guest message. */
  readonly bot: BotTurns;
  readonly #messageIndex = new Map<string, Conversation>();
  readonly #clearedTokens = new Set<string>();
  readonly #jwtKey = newSecret();
  readonly #jwts = new Map<string, { readonly session: Session; readonly exp: number }>();

  constructor(options: ResolvedOptions, urls: EmulatorUrls) {
    this.options = options;
    this.urls = urls;
    this.timers = new Timers(options.clock, options.logger);
    const { limits } = options;
    this.constraints = {
      maxTextLength: limits.maxTextLength,
      maxCustomDataBytes: limits.maxCustomDataBytes,
      attachments: {
        enabled: options.allowedFileTypes.length > 0,
        fileTypes: options.allowedFileTypes,
        maxFileSizeKB: limits.maxFileSizeKB,
        blockedExtensions: options.blockedExtensions,
        maxPerMessage: 1,
      },
      sendRatePerSecond: limits.messagesPerSecond,
      typingIntervalMs: 0,
    };
    this.attachments = new AttachmentStore({
      signingKey: newSecret(),
      httpUrl: urls.httpUrl,
      organizationId: this.organizationId,
    });
    this.faults = new FaultLayer({
      timers: this.timers,
      deliver: (session, frame) => this.broadcast(session, frame),
      dropSockets: (token, code) => this.dropSockets(token, code),
      expireSession: (token) => this.expire(this.requireSession(token)),
    });
    this.bot = new BotTurns(options.bot);
    this.player = new ScriptPlayer({
      timers: this.timers,
      logger: options.logger,
      isLive: (session) => this.sessions.get(session.token) === session && !session.expired,
      say: (session, reply) => {
        this.say(session, reply);
      },
      typing: (session, durationMs, from) => this.typing(session, durationMs, from),
    });
  }

  get now(): number {
    return this.timers.now();
  }

  // ---- sessions -------------------------------------------------------------------------------------

  requireSession(token: string): Session {
    const session = this.sessions.get(token);
    if (!session) throw new EmulatorError('session_not_found', `No session has token "${token}".`);
    return session;
  }

  /** A new session for the token; `cleared` when the token's previous session was cleared by the guest. */
  createSession(token: string): { session: Session; cleared: boolean } {
    const { limits } = this.options;
    const session = new Session(token, this.now, limits.messagesPerSecond, limits.sessionDurationSeconds);
    this.sessions.set(token, session);
    const cleared = this.#clearedTokens.delete(token);
    this.#scheduleExpiry(session);
    return { session, cleared };
  }

  /** Activity: the session now expires `sessionDurationSeconds` from now. */
  touch(session: Session): void {
    session.expiresAt = this.now + this.options.limits.sessionDurationSeconds * 1000;
    this.#scheduleExpiry(session);
  }

  #scheduleExpiry(session: Session): void {
    session.cancelExpiry?.();
    session.cancelExpiry = this.timers.after(session.expiresAt - this.now, () => {
      session.cancelExpiry = undefined;
      if (this.sessions.get(session.token) !== session || session.expired) return;
      // Timers are capped at about 24.8 days; a longer TTL re-arms.
      if (this.now < session.expiresAt) this.#scheduleExpiry(session);
      else this.expire(session);
    });
  }

  /** SessionExpiredEvent to the session's sockets; from now on its requests get 4006. */
  expire(session: Session): void {
    if (session.expired) return;
    session.expired = true;
    session.cancelExpiry?.();
    session.cancelExpiry = undefined;
    this.player.cancel(session);
    this.broadcast(session, frames.sessionExpired());
    this.changed(session);
  }

  sessionResponse(
    session: Session,
    connected: boolean,
    newSession: boolean,
    cleared: boolean,
  ): SessionResponse {
    const { limits } = this.options;
    return {
      connected,
      newSession,
      readOnly: session.readOnly,
      clearedExistingSession: cleared,
      maxCustomDataBytes: limits.maxCustomDataBytes,
      allowedMedia: {
        inbound: {
          fileTypes: this.options.allowedFileTypes.map((type) => ({ type })),
          maxFileSizeKB: limits.maxFileSizeKB,
        },
      },
      blockedExtensions: this.options.blockedExtensions,
      durationSeconds: limits.sessionDurationSeconds,
      expirationDate: Math.floor(session.expiresAt / 1000),
    };
  }

  /** configureSession{startNew:true} on a read-only session: the token starts a fresh conversation. */
  startNewConversation(session: Session): void {
    this.player.cancel(session);
    session.conversation?.end();
    session.conversation = undefined;
    session.readOnly = false;
    this.changed(session);
  }

  /** The session's open conversation, started now when it has none (or its last one ended). */
  ensureConversation(session: Session): Conversation {
    const current = session.conversation;
    if (current && current.state === 'connected') return current;
    const conversation = new Conversation(session.token, this.now);
    this.conversations.set(conversation.id, conversation);
    session.conversation = conversation;
    this.changed(session);
    return conversation;
  }

  /** Stores a message in Genesys order and indexes it for the platform API. */
  append(conversation: Conversation, message: StructuredMessage): void {
    conversation.messages.push(message);
    this.#messageIndex.set(message.id, conversation);
  }

  findMessage(messageId: string): { conversation: Conversation; message: StructuredMessage } | undefined {
    const conversation = this.#messageIndex.get(messageId);
    const message = conversation?.messages.find((m) => m.id === messageId);
    return conversation && message ? { conversation, message } : undefined;
  }

  /** Presence Clear: SessionClearedEvent, ConnectionClosedEvent, every socket closed, the session gone. */
  clear(session: Session, tracingId: string | undefined): void {
    this.broadcast(session, frames.sessionCleared(tracingId));
    this.broadcast(session, frames.connectionClosed());
    for (const socket of [...session.sockets]) this.closeSocket(socket, 1000, 'Conversation cleared');
    session.conversation?.end();
    session.cancelExpiry?.();
    session.cancelExpiry = undefined;
    this.player.cancel(session);
    this.faults.forget(session);
    for (const [jwt, entry] of this.#jwts) if (entry.session === session) this.#jwts.delete(jwt);
    this.sessions.delete(session.token);
    this.#clearedTokens.add(session.token);
    this.hub.publish({ type: 'sessionRemoved', token: session.token });
  }

  issueJwt(session: Session): { jwt: string; exp: number } {
    const iat = Math.floor(this.now / 1000);
    const exp = iat + JWT_LIFETIME_SECONDS;
    const jwt = signJwt(this.#jwtKey, {
      iss: 'genesys-emulator',
      aud: this.options.deploymentId,
      sub: newUuid(),
      jti: newUuid(),
      iat,
      exp,
    });
    this.#jwts.set(jwt, { session, exp });
    return { jwt, exp };
  }

  /** The live session a guest JWT was issued for, or undefined when it is unknown, expired or gone. */
  sessionForJwt(jwt: string): Session | undefined {
    const entry = this.#jwts.get(jwt);
    if (!entry || entry.exp * 1000 <= this.now) return undefined;
    const { session } = entry;
    return this.sessions.get(session.token) === session && !session.expired ? session : undefined;
  }

  snapshots(): EmulatorSessionSnapshot[] {
    return [...this.sessions.values()].map(snapshotOf);
  }

  transcript(token: string): StructuredMessage[] {
    return [...(this.requireSession(token).conversation?.messages ?? [])];
  }

  changed(session: Session): void {
    if (this.sessions.get(session.token) === session)
      this.hub.publish({ type: 'session', session: snapshotOf(session) });
  }

  // ---- sockets --------------------------------------------------------------------------------------

  /** Binds a socket to a session; beyond maxConnectionsPerSession the oldest socket is closed. */
  attach(socket: GuestSocket, session: Session): void {
    if (socket.session === session) return;
    this.detach(socket);
    session.sockets.add(socket);
    socket.session = session;
    const max = this.options.limits.maxConnectionsPerSession;
    if (max > 0) {
      for (const oldest of [...session.sockets]) {
        if (session.sockets.size <= max) break;
        if (oldest === socket) continue;
        this.send(oldest, frames.connectionClosed());
        this.closeSocket(oldest, 1000, 'Session limit reached');
      }
    }
    this.changed(session);
  }

  detach(socket: GuestSocket): void {
    const session = socket.session;
    if (!session) return;
    session.sockets.delete(socket);
    socket.session = undefined;
    this.changed(session);
  }

  /** The one teardown path of a guest socket, run on its 'close' event (whoever closed it). */
  teardown(socket: GuestSocket, code: number): void {
    if (!this.sockets.delete(socket)) return;
    const token = socket.session?.token ?? null;
    this.detach(socket);
    this.hub.publish({ type: 'socket', socketId: socket.id, state: 'closed', token, code });
    this.observe({ type: 'closed', token, code, at: this.now });
  }

  /** Tells every observer; one that throws is logged and does not stop the others. */
  observe(observation: GuestSocketObservation): void {
    for (const observer of this.observers) {
      try {
        observer(observation);
      } catch (error) {
        this.options.logger.error('emulator observer failed', error);
      }
    }
  }

  /** Closes a socket cleanly; it leaves its session at once, the teardown follows on 'close'. */
  closeSocket(socket: GuestSocket, code: number, reason: string): void {
    this.detach(socket);
    if (socket.ws.readyState === WebSocket.OPEN || socket.ws.readyState === WebSocket.CONNECTING) {
      socket.ws.close(code, reason);
    }
  }

  dropSockets(token: string | undefined, code: number | undefined): number {
    const targets =
      token === undefined
        ? [...this.sockets]
        : [...(this.sessions.get(token)?.sockets ?? new Set<GuestSocket>())];
    for (const socket of targets) {
      this.detach(socket);
      if (code === undefined || code === 1006) socket.ws.terminate();
      else socket.ws.close(code, 'Dropped by the emulator (fault injection)');
    }
    return targets.length;
  }

  send(socket: GuestSocket, frame: ServerFrame): void {
    if (socket.ws.readyState !== WebSocket.OPEN) return;
    socket.ws.send(JSON.stringify(frame));
    this.hub.publish({ type: 'toGuest', socketId: socket.id, token: socket.session?.token ?? null, frame });
  }

  /** Sends a frame to every socket of the session. */
  broadcast(session: Session, frame: ServerFrame): void {
    const data = JSON.stringify(frame);
    for (const socket of session.sockets) if (socket.ws.readyState === WebSocket.OPEN) socket.ws.send(data);
    this.hub.publish({ type: 'toGuest', socketId: null, token: session.token, frame });
  }

  // ---- agent and bot (Outbound, through the fault layer) --------------------------------------------

  /** The session's conversation for an agent action: a new one when the last ended, unless read-only. */
  #agentConversation(session: Session): Conversation {
    this.assertAgentCanSpeak(session);
    return this.ensureConversation(session);
  }

  /** @throws EmulatorError when the session expired or its conversation is read-only. */
  assertAgentCanSpeak(session: Session): void {
    if (session.expired) throw new EmulatorError('session_expired', 'The session has expired.');
    if (session.readOnly) {
      throw new EmulatorError(
        'conversation_ended',
        'The conversation is read-only: the guest must start a new one.',
      );
    }
  }

  #outboundBase(conversation: Conversation | undefined) {
    return {
      id: newOutboundId(),
      time: conversation ? conversation.nextTime(this.now) : isoTime(this.now),
      messageId: newOutboundId(),
      correlationId: newUuid(),
    };
  }

  #push(session: Session, message: StructuredMessage): void {
    this.faults.pushOutbound(session, frames.structuredMessage(message));
  }

  /**
   * Sends a reply's message now (typingMs and delayMs are for the script player and ignored here), then
   * its disconnect if it has one. Returns the message, or the disconnect event for a disconnect-only reply.
   */
  say(session: Session, reply: Reply): StructuredMessage {
    if (!hasContent(reply)) {
      if (reply.disconnect) return this.disconnect(session, reply.disconnect.readOnly);
      throw new EmulatorError(
        'invalid_request',
        'A reply needs text, quickReplies, card, carousel or attachment.',
      );
    }
    const conversation = this.#agentConversation(session);
    let from: ChannelParty | undefined;
    if (reply.from === 'agent') {
      const nickname = reply.nickname ?? DEFAULT_AGENT_NICKNAME;
      conversation.participant('agent', nickname);
      from = { nickname, firstName: nickname };
    } else {
      conversation.participant('workflow', this.options.script?.name ?? 'bot');
      if (reply.nickname !== undefined) from = { nickname: reply.nickname };
    }
    const message = outboundMessage({
      ...this.#outboundBase(conversation),
      reply,
      ...(reply.attachment ? { attachment: this.#agentAttachment(session, reply.attachment) } : {}),
      ...(from ? { from } : {}),
    });
    this.append(conversation, message);
    this.#push(session, message);
    this.changed(session);
    if (reply.disconnect) this.disconnect(session, reply.disconnect.readOnly);
    return message;
  }

  #agentAttachment(session: Session, attachment: NonNullable<Reply['attachment']>): AttachmentInfo {
    if (attachment.url !== undefined) {
      return {
        id: newUuid(),
        filename: attachment.filename,
        mediaType: attachment.mediaType,
        mime: attachment.mime,
        url: attachment.url,
      };
    }
    const stored = this.attachments.createAgentFile(
      session.token,
      attachment.filename,
      attachment.mime,
      this.now,
    );
    const info = this.attachments.info(stored);
    return attachment.mediaType === mediaTypeOf(attachment.mime)
      ? info
      : { ...info, mediaType: attachment.mediaType };
  }

  /** Outbound Typing `{type:'On', duration}` by the agent (the console) or the bot (a script); not stored. */
  typing(
    session: Session,
    durationMs: number = DEFAULT_TYPING_MS,
    from: 'agent' | 'bot' = 'agent',
  ): StructuredMessage {
    if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
      throw new RangeError(`Typing duration must be an integer >= 0 ms, got ${durationMs}`);
    }
    this.assertAgentCanSpeak(session);
    const conversation = session.conversation?.state === 'connected' ? session.conversation : undefined;
    const message = typingEvent({ ...this.#outboundBase(conversation), durationMs, from });
    this.#push(session, message);
    return message;
  }

  /** A receipt for one of the conversation's messages (by Genesys id or by the guest's metadata.id). */
  receipt(session: Session, messageId: string, status: 'Delivered' | 'Read'): StructuredMessage {
    if (session.expired) throw new EmulatorError('session_expired', 'The session has expired.');
    const conversation = session.conversation;
    const referenced = conversation?.messages.find((m) => m.id === messageId || m.metadata?.id === messageId);
    if (!conversation || !referenced) {
      throw new EmulatorError(
        'message_not_found',
        `No message "${messageId}" in the session's conversation.`,
      );
    }
    const message = receiptMessage({
      referencedId: referenced.id,
      time: conversation.nextTime(this.now),
      status,
    });
    this.#push(session, message);
    return message;
  }

  /**
   * Ends the conversation: Outbound Presence Disconnect. Read-only (the default in 'ReadOnly' mode) puts
   * `metadata.readOnly: "true"` on it, and later configureSession calls answer readOnly:true.
   */
  disconnect(session: Session, readOnly?: boolean): StructuredMessage {
    const conversation = this.#agentConversation(session);
    const becomesReadOnly = readOnly ?? this.options.conversationDisconnect === 'ReadOnly';
    const message = disconnectEvent({ ...this.#outboundBase(conversation), readOnly: becomesReadOnly });
    this.append(conversation, message);
    conversation.end();
    session.readOnly = becomesReadOnly;
    this.player.cancel(session);
    this.#push(session, message);
    this.changed(session);
    return message;
  }

  /** Clears every timer, queue and held push. Sockets and the server are closed by the caller. */
  shutdown(): void {
    this.player.close();
    this.faults.close();
    this.timers.close();
    for (const session of this.sessions.values()) session.cancelExpiry = undefined;
  }
}
