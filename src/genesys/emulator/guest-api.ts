/**
 * The Genesys Web Messaging guest API over one WebSocket (reference §2–§9): each text frame is a request,
 * answered on the same socket, while pushes go to every socket of the session.
 */
import type { RawData, WebSocket } from 'ws';
import { contextByteSize } from '../../domain/context.js';
import { codePointLength } from '../../domain/utf8.js';
import type { StructuredMessage, WireContent } from '../responses.js';
import { uploadRefusal } from './attachments.js';
import { delayFirstReply } from './bot-behaviour.js';
import type { EmulatorCore } from './core.js';
import { echoReply, frames, inboundMessage, isoTime } from './frames.js';
import {
  customAttributesOf,
  type GuestMessage,
  type GuestRequest,
  type GuestRequestOf,
  parseGuestRequest,
} from './guest-requests.js';
import { newUuid } from './ids.js';
import { repliesFor } from './scripts.js';
import { GuestSocket, type Session } from './sessions.js';

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

export class GuestApi {
  readonly #core: EmulatorCore;

  constructor(core: EmulatorCore) {
    this.#core = core;
  }

  /** Takes over an upgraded guest socket until it closes. */
  accept(ws: WebSocket): GuestSocket {
    const core = this.#core;
    const socket = new GuestSocket(ws, core.now);
    core.sockets.add(socket);
    core.hub.publish({ type: 'socket', socketId: socket.id, state: 'open', token: null });
    core.observe({ type: 'accepted', at: core.now });
    ws.on('message', (data, isBinary) => {
      if (isBinary) core.send(socket, frames.error(400, 'Request failed. Binary frames are not supported.'));
      else this.handle(socket, textOf(data));
    });
    // 'close' always follows 'error' in ws, so the teardown stays in one place.
    ws.on('error', (error) => core.options.logger.debug('emulator guest socket error', error.message));
    ws.on('close', (code) => core.teardown(socket, code));
    return socket;
  }

  handle(socket: GuestSocket, raw: string): void {
    const core = this.#core;
    const parsed = parseGuestRequest(raw);
    core.hub.publish({
      type: 'fromGuest',
      socketId: socket.id,
      token: socket.session?.token ?? null,
      request: parsed.ok ? parsed.request : parsed.json,
    });
    if (!parsed.ok) {
      core.send(socket, frames.error(parsed.code, parsed.message, parsed.tracingId));
      return;
    }
    core.options.logger.debug('emulator guest request', parsed.request.action);
    try {
      this.#dispatch(socket, parsed.request, parsed.tracingId);
    } catch (error) {
      core.options.logger.error('emulator guest request failed', error);
      core.send(socket, frames.error(5000, 'Request failed.', parsed.tracingId));
    }
  }

  #dispatch(socket: GuestSocket, request: GuestRequest, tracingId: string | undefined): void {
    if (request.action === 'configureSession') {
      this.#configureSession(socket, request, tracingId);
      return;
    }
    const session = this.#session(socket, request.token, tracingId);
    if (!session) return;
    switch (request.action) {
      case 'onMessage':
        this.#onMessage(socket, session, request, tracingId);
        return;
      case 'echo':
        this.#echo(socket, session, tracingId);
        return;
      case 'getJwt': {
        this.#core.touch(session);
        const { jwt, exp } = this.#core.issueJwt(session);
        this.#core.send(socket, frames.jwt(jwt, exp, tracingId));
        return;
      }
      case 'onAttachment':
        this.#onAttachment(socket, session, request, tracingId);
        return;
      case 'getAttachment':
      case 'deleteAttachment':
        this.#attachment(socket, session, request, tracingId);
        return;
      case 'closeSession':
        this.#closeSession(socket, session, request, tracingId);
        return;
      case 'getConfiguration':
        this.#getConfiguration(socket, session, request, tracingId);
        return;
    }
  }

  /** The socket's configured session for a request, or an error answer (4007 / 4006) and undefined. */
  #session(socket: GuestSocket, token: string, tracingId: string | undefined): Session | undefined {
    const core = this.#core;
    const session = socket.session;
    if (!session || session.token !== token || core.sessions.get(token) !== session) {
      core.send(socket, frames.error(4007, 'session not found', tracingId));
      return undefined;
    }
    if (session.expired) {
      core.send(socket, frames.error(4006, 'session has expired', tracingId));
      return undefined;
    }
    return session;
  }

  /** Answers a request naming another deployment with Genesys' generic 400; true when it did. */
  #refuseUnknownDeployment(
    socket: GuestSocket,
    deploymentId: string,
    tracingId: string | undefined,
  ): boolean {
    if (deploymentId === this.#core.options.deploymentId) return false;
    this.#core.send(
      socket,
      frames.error(400, `Request failed. Unknown deploymentId "${deploymentId}".`, tracingId),
    );
    return true;
  }

  #configureSession(
    socket: GuestSocket,
    request: GuestRequestOf<'configureSession'>,
    tracingId: string | undefined,
  ): void {
    const core = this.#core;
    if (this.#refuseUnknownDeployment(socket, request.deploymentId, tracingId)) return;
    let session = core.sessions.get(request.token);
    if (session?.expired) {
      core.send(socket, frames.error(4006, 'session has expired', tracingId));
      return;
    }
    let newSession = false;
    let cleared = false;
    if (!session) {
      ({ session, cleared } = core.createSession(request.token));
      newSession = true;
    } else if (request.startNew === true && session.readOnly) {
      core.startNewConversation(session);
      newSession = true;
    }
    core.touch(session);
    core.attach(socket, session);
    core.send(
      socket,
      frames.sessionResponse(core.sessionResponse(session, true, newSession, cleared), tracingId),
    );
    core.observe({ type: 'configured', token: session.token, newSession, at: core.now });
  }

  #onMessage(
    socket: GuestSocket,
    session: Session,
    request: GuestRequestOf<'onMessage'>,
    tracingId: string | undefined,
  ): void {
    const core = this.#core;
    const { message } = request;
    const fail = (code: number, text: string): void => core.send(socket, frames.error(code, text, tracingId));
    const events = message.events ?? [];
    const eventError = message.type === 'Event' ? this.#eventError(events) : undefined;
    if (eventError) {
      fail(eventError[0], eventError[1]);
      return;
    }
    if (events.some((e) => e.presence?.type === 'Clear')) {
      if (core.options.conversationClear) core.clear(session, tracingId);
      else fail(403, 'Presence events Conversation Clear are not supported');
      return;
    }
    if (session.readOnly) {
      fail(403, 'Conversation is read-only: close the session and configure it with startNew');
      return;
    }
    const typing = message.type === 'Event' && events.every((e) => e.eventType === 'Typing');
    const rejection = message.type === 'Event' ? undefined : core.faults.takeRejection();
    if (rejection !== undefined) {
      fail(rejection, `Request failed. Refused by fault injection (${rejection}).`);
      return;
    }
    if (!typing || core.options.typingCountsTowardRateLimit) {
      // A forced 429 (fault injection) leaves the session's rate window alone.
      const forced = core.faults.take429();
      const retryAfter = forced ?? session.limiter.take(core.now);
      if (forced !== undefined || retryAfter > 0) {
        core.send(socket, frames.tooManyRequests(retryAfter, tracingId));
        return;
      }
    }
    core.touch(session);
    if (typing) {
      // Typing is echoed like any onMessage but not stored, and carries no attributes.
      const current = session.conversation?.state === 'connected' ? session.conversation : undefined;
      const echo = this.#echoOf(message, current ? current.nextTime(core.now) : isoTime(core.now), undefined);
      core.broadcast(session, frames.structuredMessage(echo, 'message', tracingId));
      return;
    }
    const textError = message.type === 'Event' ? undefined : this.#textError(message);
    if (textError) {
      fail(textError[0], textError[1]);
      return;
    }
    const content = this.#resolveContent(session, message);
    if (typeof content === 'string') {
      fail(4010, content);
      return;
    }
    const attributes = customAttributesOf(request);
    const open = session.conversation?.state === 'connected' ? session.conversation : undefined;
    const maxBytes = core.options.limits.maxCustomDataBytes;
    if (attributes && contextByteSize({ ...open?.guestAttributes, ...attributes }) > maxBytes) {
      fail(4013, `Custom Attributes in channel metadata is larger than ${maxBytes} bytes`);
      return;
    }

    const conversation = core.ensureConversation(session);
    if (attributes) {
      conversation.guestAttributes = { ...conversation.guestAttributes, ...attributes };
      conversation.customer.attributes = { ...conversation.customer.attributes, ...attributes };
    }
    const echo = this.#echoOf(message, conversation.nextTime(core.now), content);
    core.append(conversation, echo);
    core.observe({ type: 'message', token: session.token, text: message.text, at: core.now });
    core.broadcast(session, frames.structuredMessage(echo, 'message', tracingId));
    core.changed(session);
    this.#react(session, message);
  }

  #eventError(events: NonNullable<GuestMessage['events']>): [number, string] | undefined {
    if (events.length === 0) return [4020, 'Missing parameter: message.events'];
    const supported = events.every(
      (e) =>
        (e.eventType === 'Typing' && e.typing?.type === 'On') ||
        (e.eventType === 'Presence' && (e.presence?.type === 'Join' || e.presence?.type === 'Clear')),
    );
    return supported
      ? undefined
      : [400, 'Request failed. Guests can send Typing On and Presence Join or Clear events only.'];
  }

  #textError(message: GuestMessage): [number, string] | undefined {
    const text = message.text ?? '';
    if (codePointLength(text) > this.#core.options.limits.maxTextLength) return [4011, 'message too long'];
    if (text === '' && (message.content ?? []).length === 0) {
      return [400, 'Request failed. A message needs text or content.'];
    }
    return undefined;
  }

  /**
   * The script's answer: the greeting on the conversation's first guest message or Join, then rules. An
   * answer to a guest message (not the Join greeting) takes the `bot` option's response time, or is lost.
   */
  #react(session: Session, message: GuestMessage): void {
    const script = this.#core.options.script;
    const conversation = session.conversation;
    if (!script || !conversation) return;
    if (message.type === 'Event') {
      if (!conversation.greeted && script.greeting) {
        conversation.greeted = true;
        this.#core.player.play(session, script.greeting);
      }
      return;
    }
    const button = message.content?.find((c) => c.buttonResponse !== undefined)?.buttonResponse;
    const text = message.text !== undefined && message.text !== '' ? message.text : (button?.text ?? '');
    const firstMessage = !conversation.greeted;
    conversation.greeted = true;
    const replies = repliesFor(script, { text, payload: button?.payload }, firstMessage);
    if (replies.length === 0) return;
    const turn = this.#core.bot.next();
    if (!turn.answer) {
      this.#core.options.logger.debug('emulator bot leaves a guest message unanswered (bot.errorRate)');
      return;
    }
    this.#core.player.play(session, delayFirstReply(replies, turn.delayMs));
  }

  #echoOf(
    message: GuestMessage,
    time: string,
    content: readonly WireContent[] | undefined,
  ): StructuredMessage {
    return inboundMessage({
      id: newUuid(),
      time,
      messageId: newUuid(),
      correlationId: newUuid(),
      message: {
        type: message.type,
        text: message.text,
        content: content as WireContent[] | undefined,
        events: message.events,
        metadata: message.metadata,
      },
    });
  }

  /**
   * The message's content with each attachment expanded to what Genesys echoes (name, type, size, url),
   * or the 4010 error text when an attachment was not uploaded to this session.
   */
  #resolveContent(session: Session, message: GuestMessage): WireContent[] | undefined | string {
    if (!message.content) return undefined;
    const attachments = message.content.filter((c) => c.contentType === 'Attachment');
    if (attachments.length > 1) return 'Only one attachment is allowed per message';
    const content: WireContent[] = [];
    for (const item of message.content) {
      if (item.contentType !== 'Attachment') {
        content.push(item as WireContent);
        continue;
      }
      const id = item.attachment?.id ?? '';
      const stored = this.#core.attachments.get(id);
      if (!stored || stored.token !== session.token || stored.state !== 'uploaded') {
        return `Attachment "${id}" was not successfully uploaded`;
      }
      content.push({ contentType: 'Attachment', attachment: this.#core.attachments.info(stored) });
    }
    return content;
  }

  #echo(socket: GuestSocket, session: Session, tracingId: string | undefined): void {
    const core = this.#core;
    core.touch(session);
    const body = echoReply({
      id: newUuid(),
      time: isoTime(core.now),
      messageId: newUuid(),
      durationSeconds: core.options.limits.sessionDurationSeconds,
      expirationDate: Math.floor(session.expiresAt / 1000),
    });
    core.send(socket, frames.structuredMessage(body, 'response', tracingId));
  }

  #onAttachment(
    socket: GuestSocket,
    session: Session,
    request: GuestRequestOf<'onAttachment'>,
    tracingId: string | undefined,
  ): void {
    const core = this.#core;
    core.touch(session);
    const refusal = uploadRefusal(request, core.constraints);
    if (refusal) {
      // errorsAsJson (the mobile SDK's flag) asks for GenerateUrlError instead of an error string.
      core.send(
        socket,
        request.errorsAsJson === true
          ? frames.generateUrlError(request.attachmentId ?? '', refusal.code, refusal.message, tracingId)
          : frames.error(refusal.code, refusal.message, tracingId),
      );
      return;
    }
    if (
      request.attachmentId !== undefined &&
      !core.attachments.available(request.attachmentId, session.token)
    ) {
      core.send(socket, frames.error(400, 'Request failed. That attachmentId is already in use.', tracingId));
      return;
    }
    const attachment = core.attachments.createUpload({
      token: session.token,
      attachmentId: request.attachmentId,
      fileName: request.fileName,
      fileType: request.fileType,
      fileSize: request.fileSize,
    });
    core.send(socket, frames.presignedUrl(core.attachments.presigned(attachment), tracingId));
  }

  #attachment(
    socket: GuestSocket,
    session: Session,
    request: GuestRequestOf<'getAttachment'> | GuestRequestOf<'deleteAttachment'>,
    tracingId: string | undefined,
  ): void {
    const core = this.#core;
    core.touch(session);
    const attachment = core.attachments.get(request.attachmentId);
    if (!attachment || attachment.token !== session.token || attachment.state === 'deleted') {
      core.send(socket, frames.error(4009, 'attachment not found', tracingId));
      return;
    }
    if (request.action === 'deleteAttachment') {
      core.attachments.delete(attachment);
      core.send(socket, frames.attachmentDeleted(attachment.id, tracingId));
      return;
    }
    if (attachment.state !== 'uploaded') {
      core.send(socket, frames.error(4010, 'attachment not successfully uploaded', tracingId));
      return;
    }
    core.send(socket, frames.presignedUrl(core.attachments.refreshed(attachment), tracingId));
  }

  #closeSession(
    socket: GuestSocket,
    session: Session,
    request: GuestRequestOf<'closeSession'>,
    tracingId: string | undefined,
  ): void {
    const core = this.#core;
    if (request.closeAllConnections === true) {
      for (const other of [...session.sockets]) {
        if (other === socket) continue;
        core.send(other, frames.connectionClosed());
        core.closeSocket(other, 1000, 'Session closed by another connection');
      }
    }
    core.send(socket, frames.sessionResponse(core.sessionResponse(session, false, false, false), tracingId));
    core.detach(socket);
  }

  #getConfiguration(
    socket: GuestSocket,
    session: Session,
    request: GuestRequestOf<'getConfiguration'>,
    tracingId: string | undefined,
  ): void {
    const core = this.#core;
    if (this.#refuseUnknownDeployment(socket, request.deploymentId, tracingId)) return;
    const { allowedMedia, blockedExtensions, maxCustomDataBytes, durationSeconds } = core.sessionResponse(
      session,
      true,
      false,
      false,
    );
    core.send(
      socket,
      frames.configuration(
        {
          allowedMedia,
          blockedExtensions,
          maxCustomDataBytes,
          messageRoutingEnabled: true,
          sessionDurationSeconds: durationSeconds,
        },
        tracingId,
      ),
    );
  }
}
