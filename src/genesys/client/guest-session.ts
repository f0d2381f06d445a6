/**
 * One upstream Genesys guest session (reference §7) as an explicit state machine (./states.ts) with one
 * teardown path (`#finish`). It owns one socket at a time, a FIFO of paced sends acknowledged by their
 * Inbound echo, the reorder window of Outbound pushes, keep-alive, reconnect with resume, history
 * backfill and reconciliation, and attachment uploads. Everything time-based goes through the injected
 * clock; nothing reads the environment or the system clock. docs/genesys-client.md explains each
 * behaviour and its source.
 */
import { Buffer } from 'node:buffer';
import { ReconnectBackoff } from '../../domain/backoff.js';
import { type ChannelConstraints, constraintsFromSessionResponse } from '../../domain/constraints.js';
import { SendPacer } from '../../domain/pacing.js';
import { ReorderWindow } from '../../domain/reorder-window.js';
import { GenesysError, GenesysRateLimitError } from '../errors.js';
import {
  type ButtonResponseType,
  type CustomAttributes,
  ECHO_TRACING_ID,
  type GenesysRequest,
  request,
  serializeRequest,
} from '../requests.js';
import {
  messageTime,
  type PresignedUrlBody,
  parseGenesysFrame,
  type SessionResponseBody,
  type StructuredMessage,
} from '../responses.js';
import {
  type AttachmentInfo,
  putToSlot,
  type UploadResult,
  type UploadSlot,
  UploadTracker,
} from './attachments.js';
import { socketUrl } from './endpoint.js';
import {
  type CloseReason,
  Emitter,
  type GuestSessionEvents,
  type Listener,
  type ReadyEvent,
} from './events.js';
import { classifyUpstreamFailure, httpDetail } from './failure-reason.js';
import { fetchHistorySince, JwtCache } from './history.js';
import { KeepAlive } from './keep-alive.js';
import { MAX_FRAME_BYTES } from './limits.js';
import { echoEvent, outboundEvents, windowKey } from './normalize-events.js';
import {
  BACKFILL_SLACK_MS,
  type GuestSessionOptions,
  type ResolvedOptions,
  resolveOptions,
  type SocketLike,
  type SocketOptions,
  tokenTag,
} from './options.js';
import { PendingRequests, type RequestKind } from './pending-requests.js';
import { type QueueItem, SendQueue } from './send-queue.js';
import { canTransition, isTerminal, SessionState } from './states.js';
import { TimerSlot } from './timer-slot.js';
import { type RefusedUpgrade, readRefusal } from './upgrade-refusal.js';
import { type UploadUrlCheck, uploadUrlCheck } from './upload-url.js';

/** What `send()` takes: text and/or attachment ids and/or a button response, with custom attributes. */
export interface SendOptions {
  readonly text?: string;
  readonly attachmentIds?: readonly string[];
  readonly buttonResponse?: {
    readonly text: string;
    readonly payload: string;
    readonly type: ButtonResponseType;
  };
  /** Merged over the attributes set with `setCustomAttributes`; all of them ride on this message. */
  readonly customAttributes?: CustomAttributes;
  /** Idempotency key and Genesys tracingId (also `message.metadata.id`). Default: `newId()`. */
  readonly tracingId?: string;
  /**
   * This send may have reached Genesys before (e.g. another worker sent it before a failover): check
   * the session's history for it before sending, and settle it from there when found.
   */
  readonly maybeSent?: boolean;
}

/** A send Genesys accepted: the id and time of its Inbound echo. */
export interface SendResult {
  readonly tracingId: string;
  readonly genesysId: string;
  readonly time?: string;
  /** Settled from the REST history (its echo was lost with a socket), not from a live echo. */
  readonly fromHistory?: true;
}

interface SendEntry extends QueueItem {
  readonly kind: 'message' | 'join';
  readonly options: SendOptions;
  /** The custom attributes it carries, fixed at its first dispatch so that a resend is the same message. */
  attributes: CustomAttributes | undefined;
  /** Its fate is unknown (in flight when a socket went, or `maybeSent`): check history before resending. */
  unknown: boolean;
  ackTimeouts: number;
  ackTimer: unknown;
  readonly promise: Promise<SendResult>;
  readonly resolve: (result: SendResult) => void;
  readonly reject: (error: Error) => void;
}

interface Held {
  readonly body: StructuredMessage;
  readonly fromHistory: boolean;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A close(1000) that the server does not complete within this is cut with terminate(). */
const CLOSE_WAIT_MS = 5_000;
/** A send whose echo timed out this many times is given up (GENESYS_TIMEOUT). */
const MAX_ACK_TIMEOUTS = 3;
/** Reorder-window de-duplication memory per session: lean for thousands of sessions, ample for one. */
const TRACKED_IDS = 1_000;
/** Typing tracingIds remembered to recognise errors about them (they are fire-and-forget). */
const FIRE_AND_FORGET_MEMORY = 8;
/** Wire error codes that concern attachments (reference §6): an untraced one goes to an attachment request. */
const ATTACHMENT_CODES = new Set([4001, 4002, 4003, 4004, 4005, 4008, 4009, 4010]);
const ALL_REQUEST_KINDS: readonly RequestKind[] = [
  'getJwt',
  'onAttachment',
  'getAttachment',
  'deleteAttachment',
  'closeSession',
];

function frameText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (Array.isArray(data) && data.every((part) => Buffer.isBuffer(part))) {
    return Buffer.concat(data).toString('utf8');
  }
  return undefined;
}

/**
 * `ws`' error for a message over `maxPayload` (or over 2^53 bytes), which it follows with a 1009 close.
 * The close event itself is no proof: its code is the peer's answer, or 1006 when the peer never answers.
 */
const FRAME_TOO_LARGE_CODES: ReadonlySet<unknown> = new Set([
  'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
]);

/** The HTTP status of a refused upgrade, from `ws`' "Unexpected server response: 403". */
function upgradeStatus(message: string | undefined): number | undefined {
  const match = message === undefined ? null : /Unexpected server response: (\d{3})/.exec(message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** A refusal of an attachment request, as an upload failure; other errors (timeouts, lost sockets) stay. */
function toUploadError(error: GenesysError, attachmentId?: string): GenesysError {
  if (error.code !== 'GENESYS_REQUEST_REJECTED') return error;
  const options: { genesysCode?: number; cause: unknown } = { cause: error };
  if (error.genesysCode !== undefined) options.genesysCode = error.genesysCode;
  const subject = attachmentId === undefined ? 'Attachment' : `Attachment ${attachmentId}`;
  return new GenesysError('GENESYS_UPLOAD_FAILED', `${subject}: ${error.message}`, options);
}

export class GuestSession {
  readonly #o: ResolvedOptions;
  readonly #tag: string;
  readonly #emitter: Emitter<GuestSessionEvents>;
  #state: SessionState = SessionState.idle;

  #socket: SocketLike | undefined;
  #socketOpen = false;
  #socketError: Error | undefined;
  /** The current socket's upgrade was answered with an HTTP response: its status and words. */
  #refusedUpgrade: RefusedUpgrade | undefined;
  #abort: AbortController | undefined;
  readonly #sessionAbort = new AbortController();

  readonly #keepAlive: KeepAlive;
  readonly #backoff: ReconnectBackoff;
  readonly #pacer: SendPacer;
  readonly #queue: SendQueue<SendEntry>;
  readonly #requests: PendingRequests;
  readonly #uploads: UploadTracker;
  readonly #window: ReorderWindow<Held>;
  readonly #jwt = new JwtCache();
  readonly #checkUploadUrl: UploadUrlCheck;

  readonly #connectTimer: TimerSlot;
  readonly #reconnectTimer: TimerSlot;
  readonly #pumpTimer: TimerSlot;
  readonly #windowTimer: TimerSlot;
  readonly #closeTimer: TimerSlot;

  #seq = 0;
  #constraints: ChannelConstraints | undefined;
  #expiresAt: number | undefined;
  #configuredOnce = false;
  #recovering = false;
  #startNewPhase: 'none' | 'closing' | 'configuring' = 'none';
  #cleared = false;
  #finishing = false;
  #pendingAttributes: Record<string, string> = {};
  #lastTypingAt = Number.NEGATIVE_INFINITY;
  /**
   * Newest Genesys `channel.time` of any StructuredMessage received live (epoch ms); starts at
   * `resumeFrom`, when given, so that a failover's first backfill shares the resume horizon.
   */
  #newestSeen: number | undefined;
  readonly #fireAndForget: string[] = [];

  #started: Deferred<ReadyEvent> | undefined;
  #startNew: Deferred<ReadyEvent> | undefined;
  #closed: Deferred<void> | undefined;

  constructor(options: GuestSessionOptions) {
    this.#o = resolveOptions(options);
    const o = this.#o;
    this.#tag = tokenTag(o.token);
    this.#newestSeen = o.resumeFrom;
    this.#emitter = new Emitter((error, event) =>
      o.logger.error('guest session listener threw', { session: this.#tag, event, error: String(error) }),
    );
    this.#keepAlive = new KeepAlive(o, {
      ping: () => this.#socket?.ping(),
      echo: () => {
        if (this.#state === SessionState.ready || this.#state === SessionState.readOnly) {
          this.#sendRequest(request.echo({ token: o.token }));
        }
      },
      dead: () => this.#abnormal('pong timeout'),
    });
    this.#backoff = new ReconnectBackoff(o.backoff, o.random);
    // Burst 1 (see SendPacer); the margin widens each interval a little, so that jitter between here and
    // Genesys cannot make two sends 1000/rate ms apart look closer to Genesys' rate limiter.
    const intervalMs = 1000 / o.ratePerSecond + o.pacingMarginMs;
    this.#pacer = new SendPacer({ ratePerSecond: 1000 / intervalMs, burst: 1 });
    this.#queue = new SendQueue(o.maxQueue);
    this.#requests = new PendingRequests(o.clock);
    this.#uploads = new UploadTracker(o.clock, o.uploadTimeoutMs);
    this.#window = new ReorderWindow({ windowMs: o.reorderWindowMs, maxTrackedIds: TRACKED_IDS });
    this.#connectTimer = new TimerSlot(o.clock);
    this.#reconnectTimer = new TimerSlot(o.clock);
    this.#pumpTimer = new TimerSlot(o.clock);
    this.#windowTimer = new TimerSlot(o.clock);
    this.#closeTimer = new TimerSlot(o.clock);
    this.#checkUploadUrl = uploadUrlCheck(o.endpoint, o.uploadHosts);
  }

  // ── public surface ────────────────────────────────────────────────────────────────────────────

  get state(): SessionState {
    return this.#state;
  }

  /** The guest token: a credential. Persist it to resume the session; never log it. */
  get token(): string {
    return this.#o.token;
  }

  /** The session's constraints, from its last SessionResponse; undefined before the first. */
  get constraints(): ChannelConstraints | undefined {
    return this.#constraints;
  }

  /** When Genesys will expire the session if the guest stays idle (epoch ms), when known. */
  get expiresAt(): number | undefined {
    return this.#expiresAt;
  }

  /** Sends waiting or unacknowledged. */
  get queued(): number {
    return this.#queue.size;
  }

  on<K extends keyof GuestSessionEvents>(event: K, listener: Listener<GuestSessionEvents[K]>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Opens the session; resolves at the first SessionResponse (ready or read-only). */
  start(): Promise<ReadyEvent> {
    if (this.#started === undefined) {
      this.#started = deferred();
      if (this.#state === SessionState.idle) this.#connect();
      else this.#started.reject(this.#finishedError());
    }
    return this.#started.promise;
  }

  /**
   * Queues a guest message. Resolves when Genesys echoes it (its Inbound echo carries our tracingId);
   * rejects with a GenesysError: GENESYS_QUEUE_FULL at once when `maxQueue` sends are outstanding,
   * GENESYS_REQUEST_REJECTED for 4011/4013/…, GENESYS_READ_ONLY, GENESYS_CLOSED, GENESYS_SESSION_EXPIRED,
   * GENESYS_TIMEOUT. A tracingId already outstanding returns that send's promise (idempotent).
   */
  send(options: SendOptions): Promise<SendResult> {
    return this.#enqueue('message', options);
  }

  /**
   * Tells Genesys the guest is typing: at most once per `typingIntervalMs`, only while ready and no send
   * is waiting or in flight (a notice behind a message is stale), and only when the pacer has room now
   * (typing is an onMessage and counts toward the 2/s). Returns whether a notice went out.
   */
  typing(): boolean {
    if (this.#state !== SessionState.ready || this.#recovering || !this.#socketOpen) return false;
    const now = this.#o.clock.now();
    if (now - this.#lastTypingAt < this.#o.typingIntervalMs || this.#queue.size > 0) return false;
    if (!this.#pacer.tryTake(now).ok) return false;
    const tracingId = this.#o.newId();
    this.#fireAndForget.push(tracingId);
    if (this.#fireAndForget.length > FIRE_AND_FORGET_MEMORY) this.#fireAndForget.shift();
    this.#lastTypingAt = now;
    return this.#sendRequest(request.typing({ token: this.#o.token, tracingId }));
  }

  /** Custom attributes (participant data) to carry on the next message; later values win per key. */
  setCustomAttributes(attributes: CustomAttributes): void {
    for (const [key, value] of Object.entries(attributes)) {
      if (typeof value !== 'string') {
        throw new GenesysError('GENESYS_CONFIG_INVALID', `Custom attribute "${key}" must be a string`);
      }
    }
    this.#pendingAttributes = { ...this.#pendingAttributes, ...attributes };
  }

  /**
   * Sends the pending custom attributes now, on a Presence Join event (reference §3.3: the one request
   * that carries `channel.metadata.customAttributes` without a text the agent would see). Queued and paced
   * like a message; resolves with its echo, or undefined when nothing was pending.
   */
  flushCustomAttributes(): Promise<SendResult | undefined> {
    if (Object.keys(this.#pendingAttributes).length === 0) return Promise.resolve(undefined);
    return this.#enqueue('join', {});
  }

  /**
   * After the conversation became read-only: `closeSession`, then `configureSession{startNew:true}` with
   * the same token (reference §7.4). Resolves with the new session's ready event.
   */
  startNew(): Promise<ReadyEvent> {
    if (this.#state !== SessionState.readOnly || !this.#socketOpen) {
      return Promise.reject(
        new GenesysError('GENESYS_INVALID_STATE', `startNew needs a read-only session, not "${this.#state}"`),
      );
    }
    this.#startNew ??= deferred();
    const pending = this.#startNew.promise;
    this.#startNewPhase = 'closing';
    this.#transition(SessionState.configuring);
    this.#connectTimer.set(this.#o.connectTimeoutMs, () => this.#abnormal('startNew timeout'));
    this.#sendRequest(request.closeSession({ token: this.#o.token, tracingId: this.#o.newId() }));
    return pending;
  }

  /** Asks Genesys for an upload slot (reference §9 steps 1–2) without uploading: for a frontend to PUT. */
  async requestUploadSlot(file: {
    fileName: string;
    fileType: string;
    fileSize: number;
  }): Promise<UploadSlot> {
    const attachmentId = this.#o.newId();
    const tracingId = this.#o.newId();
    this.#uploads.expect(attachmentId);
    let body: PresignedUrlBody;
    try {
      body = await this.#request<PresignedUrlBody>(
        'onAttachment',
        request.onAttachment({ token: this.#o.token, attachmentId, tracingId, ...file }),
        attachmentId,
      );
    } catch (error) {
      throw error instanceof GenesysError ? toUploadError(error, attachmentId) : error;
    }
    if (body.attachmentId !== attachmentId) this.#uploads.expect(body.attachmentId);
    return {
      attachmentId: body.attachmentId,
      url: body.url,
      headers: body.headers,
      fileName: body.fileName ?? file.fileName,
      fileType: body.fileType ?? file.fileType,
      fileSize: body.fileSize ?? file.fileSize,
    };
  }

  /** Resolves on the attachment's UploadSuccessEvent, rejects on UploadFailureEvent or timeout. */
  awaitUpload(attachmentId: string): Promise<UploadResult> {
    return this.#uploads.wait(attachmentId);
  }

  /**
   * Slot, PUT (every returned header plus Content-Type), then the UploadSuccessEvent. The slot's URL is
   * checked first (./upload-url.ts): a refused one rejects with GENESYS_UPLOAD_URL_REFUSED, nothing sent.
   */
  async upload(file: { fileName: string; fileType: string; bytes: Uint8Array }): Promise<UploadResult> {
    const slot = await this.requestUploadSlot({
      fileName: file.fileName,
      fileType: file.fileType,
      fileSize: file.bytes.byteLength,
    });
    const outcome = this.#uploads.wait(slot.attachmentId);
    // The outcome may fail while the PUT is still running; it is awaited below either way.
    outcome.catch(() => {});
    const abort = new AbortController();
    const onSessionAbort = (): void => abort.abort(this.#sessionAbort.signal.reason);
    this.#sessionAbort.signal.addEventListener('abort', onSessionAbort, { once: true });
    const timer = this.#o.clock.setTimeout(() => abort.abort(), this.#o.uploadTimeoutMs);
    try {
      await putToSlot({
        fetch: this.#o.fetch,
        slot,
        fileType: file.fileType,
        bytes: file.bytes,
        checkUrl: this.#checkUploadUrl,
        signal: abort.signal,
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#uploads.settle(slot.attachmentId, { ok: false, error: failure });
      throw failure;
    } finally {
      this.#o.clock.clearTimeout(timer);
      this.#sessionAbort.signal.removeEventListener('abort', onSessionAbort);
    }
    return outcome;
  }

  /** A fresh download URL for an attachment (`getAttachment`). */
  async getAttachment(attachmentId: string): Promise<AttachmentInfo> {
    const tracingId = this.#o.newId();
    const body = await this.#request<PresignedUrlBody>(
      'getAttachment',
      request.getAttachment({ token: this.#o.token, attachmentId, tracingId }),
      attachmentId,
    );
    return {
      attachmentId: body.attachmentId,
      url: body.url,
      ...(body.fileName === undefined ? {} : { fileName: body.fileName }),
      ...(body.fileType === undefined ? {} : { fileType: body.fileType }),
      ...(body.fileSize === undefined ? {} : { fileSize: body.fileSize }),
    };
  }

  /** Deletes an uploaded attachment that was not sent (`deleteAttachment`). */
  async deleteAttachment(attachmentId: string): Promise<void> {
    const tracingId = this.#o.newId();
    await this.#request<unknown>(
      'deleteAttachment',
      request.deleteAttachment({ token: this.#o.token, attachmentId, tracingId }),
      attachmentId,
    );
  }

  /**
   * Deliberate close: sends nothing more, closes the socket with 1000, never reconnects. Outstanding
   * sends, requests and uploads are rejected with GENESYS_CLOSED. Resolves once the socket is closed.
   */
  close(): Promise<void> {
    if (isTerminal(this.#state)) return Promise.resolve();
    if (this.#state === SessionState.closing) return this.#closing().promise;
    const done = this.#closing();
    this.#transition(SessionState.closing);
    this.#rejectOutstanding(new GenesysError('GENESYS_CLOSED', 'The guest session was closed'));
    this.#closeSocket();
    return done.promise;
  }

  /**
   * Ends the session: `closeSession{closeAllConnections:true}` (reference §3.7), then `close()`. Without a
   * configured socket there is nothing to tell Genesys, and it is `close()`.
   */
  end(): Promise<void> {
    const configured = this.#state === SessionState.ready || this.#state === SessionState.readOnly;
    if (!configured || !this.#socketOpen) return this.close();
    const done = this.#closing();
    this.#transition(SessionState.closing);
    this.#rejectOutstanding(new GenesysError('GENESYS_CLOSED', 'The guest session was ended'));
    this.#sendRequest(request.closeSession({ token: this.#o.token, tracingId: this.#o.newId() }));
    // The answer (SessionResponse{connected:false}) closes the socket; so does silence.
    this.#closeTimer.set(Math.min(this.#o.ackTimeoutMs, CLOSE_WAIT_MS), () => this.#closeSocket());
    return done.promise;
  }

  // ── connection lifecycle ───────────────────────────────────────────────────────────────────────

  #connect(): void {
    this.#transition(SessionState.connecting);
    const url = socketUrl(this.#o.endpoint, this.#o.deploymentId, this.#o.application);
    // maxPayload: `ws` would accept 100 MiB messages, from a socket held among every team's sessions.
    const options: SocketOptions = { headers: {}, maxPayload: MAX_FRAME_BYTES };
    if (this.#o.origin !== undefined) options.origin = this.#o.origin;
    let socket: SocketLike;
    try {
      socket = new this.#o.WebSocket(url, options);
    } catch (cause) {
      this.#finish(
        SessionState.closed,
        'rejected',
        new GenesysError('GENESYS_CONFIG_INVALID', 'Cannot open the Genesys socket', { cause }),
      );
      return;
    }
    this.#socket = socket;
    this.#socketOpen = false;
    this.#socketError = undefined;
    this.#refusedUpgrade = undefined;
    this.#abort = new AbortController();
    this.#o.logger.debug('genesys socket opening', { session: this.#tag });
    socket.on('open', () => {
      if (this.#socket === socket) this.#onOpen();
    });
    socket.on('message', (data, isBinary) => {
      if (this.#socket !== socket || isBinary) return;
      const text = frameText(data);
      if (text !== undefined) this.#onFrame(text);
    });
    socket.on('error', (error) => {
      if (this.#socket !== socket) return;
      if (FRAME_TOO_LARGE_CODES.has((error as { code?: unknown }).code)) {
        this.#frameTooLarge(socket);
        return;
      }
      // `ws` follows every error with a close; the close decides what happens next.
      this.#socketError = error;
    });
    socket.on('close', (code) => {
      if (this.#socket === socket) this.#socketGone(`close ${code}`, code);
    });
    // Genesys answered the upgrade with HTTP (404, 403, 503 …): keep what it said, then end the attempt.
    socket.on('unexpected-response', (_request, response) => {
      void readRefusal(response, this.#o.clock).then((refusal) => {
        if (this.#socket === socket) this.#refusedUpgrade = refusal;
        socket.terminate();
      });
    });
    socket.on('pong', () => {
      if (this.#socket === socket) this.#keepAlive.pong();
    });
    this.#connectTimer.set(this.#o.connectTimeoutMs, () => this.#abnormal('connect timeout'));
  }

  #onOpen(): void {
    this.#socketOpen = true;
    this.#transition(SessionState.configuring);
    this.#keepAlive.start();
    this.#sendRequest(request.configureSession({ token: this.#o.token, deploymentId: this.#o.deploymentId }));
  }

  /** Kills the current socket as broken (pong/connect/ack timeout) and takes the reconnect path. */
  #abnormal(cause: string): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#o.logger.warn('genesys socket unhealthy', { session: this.#tag, cause });
    // Forget the socket first, so that its own close event (sync or not) is ignored.
    this.#socketGone(cause, 1006);
    socket.terminate();
  }

  /**
   * The upstream sent a message over MAX_FRAME_BYTES (`ws` dropped it and started a 1009 close). The
   * session fails for good, with no reconnect: Genesys documents nothing near that size, so the frame
   * says the upstream is broken or hostile, and a resume would meet the same upstream at once. The
   * socket is cut now rather than waiting for a close handshake from that peer. Other sessions are
   * untouched.
   */
  #frameTooLarge(socket: SocketLike): void {
    this.#o.logger.warn('genesys frame too large', { session: this.#tag, maxBytes: MAX_FRAME_BYTES });
    this.#finish(
      SessionState.closed,
      'rejected',
      new GenesysError(
        'GENESYS_FRAME_TOO_LARGE',
        `The Genesys socket sent a frame over ${MAX_FRAME_BYTES} bytes; the session is closed`,
      ),
    );
    socket.terminate();
  }

  /** The current socket is gone, whatever the reason: release what belonged to it, then decide. */
  #socketGone(cause: string, code: number): void {
    this.#socket = undefined;
    this.#socketOpen = false;
    this.#connectTimer.clear();
    this.#pumpTimer.clear();
    this.#keepAlive.stop();
    this.#abort?.abort(new GenesysError('GENESYS_CONNECTION_LOST', 'The Genesys socket closed'));
    this.#abort = undefined;
    this.#recovering = false;
    this.#requests.rejectAll(
      new GenesysError('GENESYS_CONNECTION_LOST', `The Genesys socket closed (${cause})`),
    );
    for (const entry of this.#queue.inFlight()) {
      this.#o.clock.clearTimeout(entry.ackTimer);
      entry.ackTimer = undefined;
      entry.unknown = true;
    }
    if (this.#startNewPhase !== 'none') {
      this.#startNewPhase = 'none';
      this.#startNew?.reject(
        new GenesysError('GENESYS_CONNECTION_LOST', 'The socket closed during startNew'),
      );
      this.#startNew = undefined;
    }

    if (isTerminal(this.#state)) return;
    if (this.#state === SessionState.closing) {
      this.#finish(SessionState.closed, 'closed');
      return;
    }
    if (code === 4006) {
      this.#finish(SessionState.expired, 'expired');
      return;
    }
    const refused = this.#refusedUpgrade;
    this.#refusedUpgrade = undefined;
    const status = refused?.status ?? upgradeStatus(this.#socketError?.message);
    const said = refused?.said;
    if (
      code === 1008 ||
      (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)
    ) {
      const why = status === undefined ? `close ${code}` : httpDetail(status, said);
      this.#finish(
        SessionState.closed,
        'rejected',
        new GenesysError('GENESYS_REQUEST_REJECTED', `Genesys refused the socket (${why})`, {
          ...(status === undefined ? {} : { genesysCode: status }),
        }),
      );
      return;
    }
    const now = this.#o.clock.now();
    const backoffMs = this.#backoff.disconnected(now);
    // Among many sessions dropped at once, the process-wide pacer spreads the starts further.
    const pacer = this.#o.reconnectPacer;
    const delayMs = pacer === undefined ? backoffMs : Math.max(backoffMs, pacer.reserve(now) - now);
    const attempt = this.#backoff.attempt - 1;
    const failure = classifyUpstreamFailure(cause, this.#socketError, status, said);
    this.#transition(SessionState.reconnecting);
    this.#o.logger.warn('genesys socket lost; reconnecting', {
      session: this.#tag,
      cause: status === undefined ? cause : `HTTP ${status}`,
      reason: failure.reason,
      detail: failure.detail,
      attempt,
      delayMs: Math.round(delayMs),
    });
    this.#emitter.emit('reconnecting', {
      attempt,
      delayMs,
      cause: status === undefined ? cause : `HTTP ${status}`,
      reason: failure.reason,
      detail: failure.detail,
    });
    this.#reconnectTimer.set(delayMs, () => {
      if (this.#state === SessionState.reconnecting) this.#connect();
    });
  }

  /** Closes the socket with 1000 and waits (bounded) for it; the close event finishes the session. */
  #closeSocket(): void {
    this.#closeTimer.clear();
    const socket = this.#socket;
    if (socket === undefined) {
      this.#finish(SessionState.closed, 'closed');
      return;
    }
    this.#keepAlive.stop();
    this.#closeTimer.set(CLOSE_WAIT_MS, () => {
      if (this.#socket !== socket) return;
      this.#socketGone('close timeout', 1006);
      socket.terminate();
    });
    socket.close(1000, 'Guest client disconnect');
  }

  /**
   * The one teardown path: every timer cleared, every request, send and upload rejected, held pushes
   * released, the socket closed, the terminal state set and announced, listeners dropped.
   */
  #finish(to: 'closed' | 'expired', reason: CloseReason, error?: GenesysError): void {
    if (isTerminal(this.#state) || this.#finishing) return;
    this.#finishing = true;
    const failure =
      to === SessionState.expired
        ? new GenesysError('GENESYS_SESSION_EXPIRED', 'The Genesys guest session expired')
        : (error ?? new GenesysError('GENESYS_CLOSED', `The guest session is closed (${reason})`));
    for (const slot of [
      this.#connectTimer,
      this.#reconnectTimer,
      this.#pumpTimer,
      this.#windowTimer,
      this.#closeTimer,
    ]) {
      slot.clear();
    }
    this.#keepAlive.stop();
    this.#abort?.abort(failure);
    this.#abort = undefined;
    this.#sessionAbort.abort(failure);
    this.#rejectOutstanding(failure);
    this.#startNew?.reject(failure);
    this.#startNew = undefined;
    this.#started?.reject(failure);
    // Pushes already received are real messages: let them out before the end.
    this.#recovering = false;
    for (const released of this.#window.flush()) this.#emitOutbound(released.value, released.late);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#socketOpen = false;
    if (socket !== undefined) socket.close(1000, 'Guest client disconnect');
    this.#transition(to);
    this.#o.logger.info('genesys session finished', { session: this.#tag, state: to, reason });
    if (to === SessionState.expired) this.#emitter.emit('expired', {});
    this.#emitter.emit('closed', error === undefined ? { reason } : { reason, error });
    this.#closed?.resolve();
    this.#emitter.clear();
  }

  #rejectOutstanding(error: GenesysError): void {
    for (const entry of this.#queue.drain()) {
      this.#o.clock.clearTimeout(entry.ackTimer);
      entry.reject(error);
    }
    this.#requests.rejectAll(error);
    this.#uploads.rejectAll(error);
    this.#pumpTimer.clear();
  }

  #closing(): Deferred<void> {
    this.#closed ??= deferred();
    return this.#closed;
  }

  #finishedError(): GenesysError {
    return this.#state === SessionState.expired
      ? new GenesysError('GENESYS_SESSION_EXPIRED', 'The Genesys guest session expired')
      : new GenesysError('GENESYS_CLOSED', 'The guest session is closed');
  }

  #transition(to: SessionState): void {
    const from = this.#state;
    if (!canTransition(from, to)) throw new Error(`guest session: illegal transition ${from} → ${to}`);
    this.#state = to;
    this.#o.logger.debug('genesys session state', { session: this.#tag, from, to });
    this.#emitter.emit('state', { from, to });
  }

  // ── frames from Genesys ────────────────────────────────────────────────────────────────────────

  #onFrame(text: string): void {
    const frame = parseGenesysFrame(text);
    switch (frame.kind) {
      case 'sessionResponse':
        this.#onSessionResponse(frame.body);
        return;
      case 'structuredMessage':
        this.#onStructured(frame.body, frame.tracingId);
        return;
      case 'jwt': {
        const pending = this.#requests.take(frame.tracingId) ?? this.#requests.takeMatching(['getJwt']);
        pending?.resolve(frame.body);
        return;
      }
      case 'presignedUrl': {
        const pending =
          this.#requests.take(frame.tracingId) ??
          this.#requests.takeMatching(['onAttachment', 'getAttachment'], frame.body.attachmentId);
        pending?.resolve(frame.body);
        return;
      }
      case 'attachmentDeleted': {
        const pending =
          this.#requests.take(frame.tracingId) ??
          this.#requests.takeMatching(['deleteAttachment'], frame.body.attachmentId);
        pending?.resolve(frame.body);
        return;
      }
      case 'uploadSuccess': {
        const { attachmentId, downloadUrl } = frame.body;
        this.#uploads.settle(attachmentId, {
          ok: true,
          result: downloadUrl === undefined ? { attachmentId } : { attachmentId, downloadUrl },
        });
        this.#emitter.emit(
          'upload',
          downloadUrl === undefined
            ? { attachmentId, status: 'uploaded' }
            : { attachmentId, status: 'uploaded', downloadUrl },
        );
        return;
      }
      case 'uploadFailure':
      case 'generateUrlError':
        this.#onUploadFailure(frame.kind, frame.body, 'tracingId' in frame ? frame.tracingId : undefined);
        return;
      case 'sessionExpired':
        this.#finish(SessionState.expired, 'expired');
        return;
      case 'sessionCleared':
        this.#cleared = true;
        this.#emitter.emit('presence', { author: 'system', type: 'clear' });
        return;
      case 'connectionClosed':
        this.#onConnectionClosed(frame.reason);
        return;
      case 'logout':
        this.#finish(
          SessionState.closed,
          'connectionClosed',
          new GenesysError('GENESYS_CLOSED', 'Logged out'),
        );
        return;
      case 'error':
        this.#onError(frame.error, frame.tracingId);
        return;
      case 'configuration':
      case 'unknown':
        this.#o.logger.debug('genesys frame ignored', { session: this.#tag, kind: frame.kind });
        return;
      case 'invalid':
        this.#o.logger.warn('genesys frame invalid', { session: this.#tag, reason: frame.reason });
        return;
    }
  }

  #onSessionResponse(body: SessionResponseBody): void {
    this.#updateExpiry(body.durationSeconds, body.expirationDate);
    if (this.#state === SessionState.closing) {
      this.#closeSocket();
      return;
    }
    if (this.#state !== SessionState.configuring) {
      this.#o.logger.debug('unexpected SessionResponse ignored', { session: this.#tag, state: this.#state });
      return;
    }
    if (this.#startNewPhase === 'closing') {
      // closeSession answered (SessionResponse{connected:false}): now ask for a new conversation.
      this.#startNewPhase = 'configuring';
      this.#sendRequest(
        request.configureSession({
          token: this.#o.token,
          deploymentId: this.#o.deploymentId,
          startNew: true,
        }),
      );
      return;
    }
    this.#connectTimer.clear();
    const readOnly = body.readOnly === true;
    if (body.connected === false && !readOnly) {
      this.#finish(
        SessionState.closed,
        'rejected',
        new GenesysError(
          'GENESYS_REQUEST_REJECTED',
          'Genesys answered configureSession with connected:false',
        ),
      );
      return;
    }
    this.#backoff.connected(this.#o.clock.now());
    this.#constraints = constraintsFromSessionResponse(body, {
      sendRatePerSecond: this.#o.ratePerSecond,
      typingIntervalMs: this.#o.typingIntervalMs,
    });
    const resumed = this.#configuredOnce && this.#startNewPhase === 'none';
    // A new owner after a failover: the first SessionResponse resumes what someone else held.
    const takenOver = !this.#configuredOnce && this.#o.resumeFrom !== undefined;
    const newSession = body.newSession === true;
    if (takenOver && newSession && this.#newestSeen === this.#o.resumeFrom) {
      // A new session holds nothing from before resumeFrom: a later resume reads its whole history.
      this.#newestSeen = undefined;
    }
    this.#configuredOnce = true;
    const wasStartNew = this.#startNewPhase === 'configuring';
    this.#startNewPhase = 'none';
    this.#transition(readOnly ? SessionState.readOnly : SessionState.ready);
    const ready: ReadyEvent = {
      newSession,
      readOnly,
      resumed,
      constraints: this.#constraints,
      ...(this.#expiresAt === undefined ? {} : { expiresAt: this.#expiresAt }),
    };
    this.#o.logger.info('genesys session ready', { session: this.#tag, newSession, readOnly, resumed });
    if (readOnly) this.#rejectWaiting(new GenesysError('GENESYS_READ_ONLY', 'The conversation is read-only'));
    this.#emitter.emit('ready', ready);
    this.#started?.resolve(ready);
    if (wasStartNew) {
      this.#startNew?.resolve(ready);
      this.#startNew = undefined;
    }
    const unknown = [...this.#queue.inFlight(), ...this.#queue.waiting()].filter((entry) => entry.unknown);
    const backfill = !newSession && (resumed || takenOver);
    if (backfill || (unknown.length > 0 && !newSession)) {
      void this.#recover(backfill);
    } else {
      // A new session cannot hold our earlier sends: whatever was unknown goes again.
      for (const entry of unknown) this.#resend(entry);
      if (readOnly)
        this.#rejectWaiting(new GenesysError('GENESYS_READ_ONLY', 'The conversation is read-only'));
      this.#pump();
    }
  }

  #onStructured(body: StructuredMessage, tracingId: string | undefined): void {
    if (tracingId === ECHO_TRACING_ID) {
      // The echo reply (reference §3.4): it refreshes the session's expiry.
      const metadata = body.metadata ?? {};
      this.#updateExpiry(
        Number(metadata.durationSeconds ?? Number.NaN),
        Number(metadata.expirationDate ?? Number.NaN),
      );
      return;
    }
    const time = messageTime(body);
    if (time !== undefined) this.#newestSeen = Math.max(this.#newestSeen ?? time, time);
    if (body.direction === 'Inbound') {
      this.#onInbound(body, tracingId);
      return;
    }
    this.#hold(body, false);
  }

  /** A guest message pushed back: the ack of one of our sends (by tracingId, else metadata.id). */
  #onInbound(body: StructuredMessage, tracingId: string | undefined): void {
    const key = tracingId ?? body.metadata?.id;
    const entry = key === undefined ? undefined : this.#queue.get(key);
    if (entry !== undefined) this.#acknowledge(entry, body, false);
    else if (key !== undefined && this.#fireAndForget.includes(key)) return;
    this.#emitter.emit('echo', echoEvent(body, key, entry !== undefined));
  }

  #acknowledge(entry: SendEntry, body: StructuredMessage, fromHistory: boolean): void {
    this.#o.clock.clearTimeout(entry.ackTimer);
    this.#queue.settle(entry.tracingId);
    const time = body.channel?.time;
    entry.resolve({
      tracingId: entry.tracingId,
      genesysId: body.id,
      ...(typeof time === 'string' ? { time } : {}),
      ...(fromHistory ? { fromHistory: true as const } : {}),
    });
    this.#pump();
  }

  #onError(error: GenesysError, tracingId: string | undefined): void {
    if (error.genesysCode === 4006) {
      this.#finish(SessionState.expired, 'expired');
      return;
    }
    if (this.#state === SessionState.configuring && this.#startNewPhase === 'none') {
      // The answer to configureSession: Genesys refused the session (T treats this as fatal), unless it
      // is a server-side failure, which a later attempt may not meet.
      const code = error.genesysCode ?? 0;
      if (code >= 500) this.#abnormal(`configureSession failed (${code})`);
      else this.#finish(SessionState.closed, 'rejected', error);
      return;
    }
    if (this.#state === SessionState.configuring) {
      // startNew failed: the conversation stays read-only.
      this.#connectTimer.clear();
      this.#startNewPhase = 'none';
      this.#transition(SessionState.readOnly);
      this.#startNew?.reject(error);
      this.#startNew = undefined;
      return;
    }
    if (error instanceof GenesysRateLimitError) {
      this.#onRateLimited(error, tracingId);
      return;
    }
    if (tracingId !== undefined) {
      const entry = this.#queue.get(tracingId);
      if (entry !== undefined) {
        this.#fail(entry, error);
        return;
      }
      const pending = this.#requests.take(tracingId);
      if (pending !== undefined) {
        pending.reject(error);
        return;
      }
      // A typing notice or an echo that Genesys refused is of no consequence; an id we never used (or a
      // send already settled) owns the error: guessing another owner would fail the wrong message.
      if (this.#fireAndForget.includes(tracingId) || tracingId === ECHO_TRACING_ID) return;
      this.#emitter.emit('error', { error, context: 'error frame for an unknown tracingId' });
      return;
    }
    if (error.genesysCode !== undefined && ATTACHMENT_CODES.has(error.genesysCode)) {
      const pending = this.#requests.takeMatching(['onAttachment', 'getAttachment', 'deleteAttachment']);
      if (pending !== undefined) {
        pending.reject(error);
        return;
      }
    }
    const oldest = this.#queue.oldestInFlight();
    if (oldest !== undefined) {
      this.#fail(oldest, error);
      return;
    }
    const pending = this.#requests.takeMatching(ALL_REQUEST_KINDS);
    if (pending !== undefined) {
      pending.reject(error);
      return;
    }
    this.#emitter.emit('error', { error, context: 'unmatched error frame' });
  }

  /** 429: nothing goes before retryAfter; the refused send goes again first, with the same tracingId. */
  #onRateLimited(error: GenesysRateLimitError, tracingId: string | undefined): void {
    this.#pacer.retryAfter(error.retryAfterMs, this.#o.clock.now());
    // Named by tracingId: that send, if it is ours and in flight (a typing notice has nothing to resend).
    // Unnamed: the oldest send in flight.
    const entry =
      tracingId === undefined
        ? this.#queue.oldestInFlight()
        : this.#queue.isInFlight(tracingId)
          ? this.#queue.get(tracingId)
          : undefined;
    this.#o.logger.info('genesys rate limit', {
      session: this.#tag,
      retryAfterMs: error.retryAfterMs,
      resend: entry !== undefined,
    });
    if (entry === undefined) return;
    this.#o.clock.clearTimeout(entry.ackTimer);
    entry.ackTimer = undefined;
    this.#queue.requeue(entry.tracingId);
    this.#pump();
  }

  #fail(entry: SendEntry, error: Error): void {
    this.#o.clock.clearTimeout(entry.ackTimer);
    this.#queue.settle(entry.tracingId);
    // Attributes that rode on a refused message are kept for the next one, unless they were the reason.
    const tooLarge = error instanceof GenesysError && error.genesysCode === 4013;
    if (entry.attributes !== undefined && !tooLarge) {
      this.#pendingAttributes = { ...entry.attributes, ...this.#pendingAttributes };
    }
    entry.reject(error);
    this.#pump();
  }

  #onUploadFailure(
    kind: 'uploadFailure' | 'generateUrlError',
    body: { attachmentId?: string; errorCode?: number; errorMessage?: string },
    tracingId: string | undefined,
  ): void {
    const error = new GenesysError(
      'GENESYS_UPLOAD_FAILED',
      `Attachment ${body.attachmentId ?? ''}: ${body.errorMessage ?? (kind === 'uploadFailure' ? 'upload failed' : 'no upload URL')}`,
      body.errorCode === undefined ? {} : { genesysCode: body.errorCode },
    );
    if (kind === 'generateUrlError') {
      const pending =
        this.#requests.take(tracingId) ?? this.#requests.takeMatching(['onAttachment'], body.attachmentId);
      pending?.reject(error);
    }
    if (body.attachmentId !== undefined) {
      this.#uploads.settle(body.attachmentId, { ok: false, error });
      this.#emitter.emit('upload', { attachmentId: body.attachmentId, status: 'failed', error });
    }
  }

  #onConnectionClosed(reason: string | undefined): void {
    if (this.#startNewPhase === 'closing') {
      // Ours is the connection that asked for closeSession: the event is for the others.
      return;
    }
    const closeReason: CloseReason = this.#cleared
      ? 'connectionClosed'
      : reason === undefined
        ? 'sessionLimit'
        : reason === 'signedIn'
          ? 'signedIn'
          : 'connectionClosed';
    const message =
      closeReason === 'sessionLimit'
        ? 'Genesys closed the connection: too many connections share this session'
        : `Genesys closed the connection (${reason ?? 'cleared'})`;
    this.#finish(SessionState.closed, closeReason, new GenesysError('GENESYS_CLOSED', message));
  }

  #updateExpiry(durationSeconds: number | undefined, expirationDate: number | undefined): void {
    if (expirationDate !== undefined && Number.isFinite(expirationDate) && expirationDate > 0) {
      this.#expiresAt = expirationDate * 1000;
    } else if (durationSeconds !== undefined && Number.isFinite(durationSeconds) && durationSeconds > 0) {
      this.#expiresAt = this.#o.clock.now() + durationSeconds * 1000;
    }
  }

  // ── Outbound pushes: reorder window ────────────────────────────────────────────────────────────

  #hold(body: StructuredMessage, fromHistory: boolean): void {
    const id = windowKey(body);
    const accepted = this.#window.push(
      { id, time: body.channel?.time, value: { body, fromHistory } },
      this.#o.clock.now(),
    );
    if (accepted) this.#scheduleRelease();
  }

  #scheduleRelease(): void {
    if (this.#recovering) return;
    const due = this.#window.nextDueAt();
    if (due === undefined) {
      this.#windowTimer.clear();
      return;
    }
    // Due already (a window of 0 holds nothing): out now, not a timer turn (a millisecond) later.
    if (due <= this.#o.clock.now()) {
      this.#windowTimer.clear();
      this.#release();
      return;
    }
    if (this.#windowTimer.at === due) return;
    this.#windowTimer.set(due - this.#o.clock.now(), () => this.#release());
  }

  #release(): void {
    if (this.#recovering) return;
    for (const released of this.#window.release(this.#o.clock.now())) {
      this.#emitOutbound(released.value, released.late);
    }
    this.#scheduleRelease();
  }

  #emitOutbound(held: Held, late: boolean): void {
    for (const event of outboundEvents(held.body, { late, fromHistory: held.fromHistory })) {
      switch (event.name) {
        case 'message':
          this.#emitter.emit('message', event.payload);
          break;
        case 'typing':
          this.#emitter.emit('typing', event.payload);
          break;
        case 'receipt':
          this.#emitter.emit('receipt', event.payload);
          break;
        case 'presence':
          this.#emitter.emit('presence', event.payload);
          if (event.payload.readOnly === true) this.#enterReadOnly();
          break;
      }
    }
  }

  /** The agent ended the conversation and the deployment makes it read-only (reference §5, §7.4). */
  #enterReadOnly(): void {
    if (this.#state !== SessionState.ready || this.#finishing) return;
    this.#transition(SessionState.readOnly);
    this.#rejectWaiting(new GenesysError('GENESYS_READ_ONLY', 'The conversation is read-only'));
  }

  #rejectWaiting(error: GenesysError): void {
    for (const entry of this.#queue.waiting()) {
      if (entry.unknown) continue;
      this.#queue.settle(entry.tracingId);
      entry.reject(error);
    }
    this.#pumpTimer.clear();
  }

  // ── sends: queue, pacing, dispatch ─────────────────────────────────────────────────────────────

  #enqueue(kind: 'message' | 'join', options: SendOptions): Promise<SendResult> {
    if (isTerminal(this.#state) || this.#state === SessionState.closing) {
      return Promise.reject(
        isTerminal(this.#state)
          ? this.#finishedError()
          : new GenesysError('GENESYS_CLOSED', 'The guest session is closing'),
      );
    }
    if (this.#state === SessionState.readOnly) {
      return Promise.reject(new GenesysError('GENESYS_READ_ONLY', 'The conversation is read-only'));
    }
    const tracingId = options.tracingId ?? this.#o.newId();
    const existing = this.#queue.get(tracingId);
    if (existing !== undefined) return existing.promise;
    if (this.#queue.isFull) {
      return Promise.reject(
        new GenesysError('GENESYS_QUEUE_FULL', `The send queue is full (${this.#o.maxQueue} outstanding)`),
      );
    }
    const { promise, resolve, reject } = deferred<SendResult>();
    const entry: SendEntry = {
      seq: this.#seq++,
      tracingId,
      kind,
      options,
      attributes: undefined,
      unknown: options.maybeSent === true,
      ackTimeouts: 0,
      ackTimer: undefined,
      promise,
      resolve,
      reject,
    };
    this.#queue.enqueue(entry);
    if (entry.unknown && this.#state === SessionState.ready && !this.#recovering) void this.#recover(false);
    else this.#pump();
    return promise;
  }

  /** Sends what may go now; arms the pacing timer for the rest. */
  #pump(): void {
    if (this.#state !== SessionState.ready || this.#recovering || !this.#socketOpen) return;
    while (this.#queue.waitingCount > 0 && this.#queue.inFlightCount < this.#o.maxInFlight) {
      const head = this.#queue.peek();
      if (head === undefined || head.unknown) return;
      const now = this.#o.clock.now();
      const take = this.#pacer.tryTake(now);
      if (!take.ok) {
        if (!this.#pumpTimer.armed) this.#pumpTimer.set(take.waitMs, () => this.#pump());
        return;
      }
      const entry = this.#queue.take();
      if (entry !== undefined) this.#dispatch(entry);
    }
  }

  #dispatch(entry: SendEntry): void {
    if (entry.attributes === undefined) {
      const attributes = { ...this.#pendingAttributes, ...entry.options.customAttributes };
      this.#pendingAttributes = {};
      entry.attributes = attributes;
    }
    const customAttributes = Object.keys(entry.attributes).length > 0 ? entry.attributes : undefined;
    const token = this.#o.token;
    const { tracingId } = entry;
    const frame =
      entry.kind === 'join'
        ? request.presence({ token, type: 'Join', tracingId, customAttributes })
        : request.text({
            token,
            tracingId,
            text: entry.options.text,
            attachmentIds: entry.options.attachmentIds,
            buttonResponse: entry.options.buttonResponse,
            customAttributes,
          });
    entry.ackTimer = this.#o.clock.setTimeout(() => this.#onAckTimeout(entry), this.#o.ackTimeoutMs);
    this.#sendRequest(frame);
  }

  /**
   * No echo in time: the socket is suspect. Take the reconnect path, whose reconciliation settles the
   * send from history or sends it again; give up after MAX_ACK_TIMEOUTS.
   */
  #onAckTimeout(entry: SendEntry): void {
    entry.ackTimer = undefined;
    entry.ackTimeouts++;
    if (entry.ackTimeouts >= MAX_ACK_TIMEOUTS) {
      this.#fail(entry, new GenesysError('GENESYS_TIMEOUT', `No echo for send ${entry.tracingId}`));
      return;
    }
    this.#abnormal(`no echo within ${this.#o.ackTimeoutMs} ms`);
  }

  #resend(entry: SendEntry): void {
    entry.unknown = false;
    if (this.#queue.isInFlight(entry.tracingId)) this.#queue.requeue(entry.tracingId);
  }

  // ── after a resume: reconcile unknown sends, backfill missed pushes ────────────────────────────

  /**
   * Pages the REST history (getJwt first) back to just before the newest push seen (at first, the
   * `resumeFrom` option). Unknown sends found there as Inbound entries whose `metadata.id` is their
   * tracingId are settled; the rest go again, in order. With `backfill`, missed Outbound messages join the reorder window (de-duplicated by id), and
   * the window and the queue stay paused until they are in, so everything comes out once and in order.
   */
  async #recover(backfill: boolean): Promise<void> {
    const socketAbort = this.#abort;
    if (socketAbort === undefined) return;
    this.#recovering = true;
    this.#windowTimer.clear();
    const horizon = this.#newestSeen === undefined ? undefined : this.#newestSeen - BACKFILL_SLACK_MS;
    const controller = new AbortController();
    const onSocketAbort = (): void => controller.abort(socketAbort.signal.reason);
    socketAbort.signal.addEventListener('abort', onSocketAbort, { once: true });
    const timer = this.#o.clock.setTimeout(
      () => controller.abort(new GenesysError('GENESYS_TIMEOUT', 'History took too long')),
      this.#o.ackTimeoutMs,
    );
    let history: StructuredMessage[] | undefined;
    try {
      const jwt = await this.#getJwt();
      history = await fetchHistorySince(
        {
          fetch: this.#o.fetch,
          apiUrl: this.#o.endpoint.apiUrl,
          jwt,
          origin: this.#o.origin,
          signal: controller.signal,
        },
        horizon,
      );
    } catch (error) {
      // When the socket went, the next resume tries again; nothing to report.
      if (this.#abort === socketAbort && !isTerminal(this.#state)) {
        this.#emitter.emit('error', {
          error: error instanceof Error ? error : new Error(String(error)),
          context: 'history after resume: missed messages may be lost; unknown sends are sent again',
        });
      }
    } finally {
      this.#o.clock.clearTimeout(timer);
      socketAbort.signal.removeEventListener('abort', onSocketAbort);
    }
    if (this.#abort !== socketAbort || isTerminal(this.#state) || this.#state === SessionState.closing)
      return;

    const sentIds = new Map<string, StructuredMessage>();
    for (const message of history ?? []) {
      const id = message.metadata?.id;
      if (message.direction === 'Inbound' && id !== undefined) sentIds.set(id, message);
    }
    for (const entry of [...this.#queue.inFlight(), ...this.#queue.waiting()]) {
      if (!entry.unknown) continue;
      const found = sentIds.get(entry.tracingId);
      if (found !== undefined) this.#acknowledge(entry, found, true);
      else this.#resend(entry);
    }
    if (backfill) {
      for (const message of history ?? []) {
        if (message.direction === 'Inbound') continue;
        const time = messageTime(message);
        if (horizon !== undefined && time !== undefined && time < horizon) continue;
        this.#hold(message, true);
      }
    }
    for (const attachmentId of this.#uploads.waiting()) this.#recheckUpload(attachmentId);
    this.#recovering = false;
    this.#scheduleRelease();
    if (this.#state === SessionState.readOnly) {
      this.#rejectWaiting(new GenesysError('GENESYS_READ_ONLY', 'The conversation is read-only'));
    }
    this.#pump();
  }

  /** An UploadSuccessEvent may have been lost with a socket: ask for the attachment once. */
  #recheckUpload(attachmentId: string): void {
    this.getAttachment(attachmentId).then(
      (info) =>
        this.#uploads.settle(attachmentId, { ok: true, result: { attachmentId, downloadUrl: info.url } }),
      () => {}, // not uploaded (yet): keep waiting for the event or the timeout
    );
  }

  async #getJwt(): Promise<string> {
    const cached = this.#jwt.get(this.#o.clock.now());
    if (cached !== undefined) return cached;
    const tracingId = this.#o.newId();
    const body = await this.#request<{ jwt: string; exp: number }>(
      'getJwt',
      request.getJwt({ token: this.#o.token, tracingId }),
    );
    this.#jwt.set(body.jwt, body.exp);
    return body.jwt;
  }

  // ── raw requests ───────────────────────────────────────────────────────────────────────────────

  #request<T>(
    kind: RequestKind,
    frame: GenesysRequest & { tracingId?: string },
    attachmentId?: string,
  ): Promise<T> {
    const usable =
      this.#socketOpen && (this.#state === SessionState.ready || this.#state === SessionState.readOnly);
    if (!usable) {
      return Promise.reject(
        isTerminal(this.#state) || this.#state === SessionState.closing
          ? this.#finishedError()
          : new GenesysError(
              'GENESYS_CONNECTION_LOST',
              `Not connected (${this.#state}); try again when ready`,
            ),
      );
    }
    const tracingId = frame.tracingId ?? this.#o.newId();
    const result = this.#requests.add<T>(kind, tracingId, this.#o.ackTimeoutMs, attachmentId);
    this.#sendRequest(frame);
    return result;
  }

  /** Writes one request on the open socket; false when there is none. */
  #sendRequest(frame: GenesysRequest): boolean {
    const socket = this.#socket;
    if (socket === undefined || !this.#socketOpen) return false;
    socket.send(serializeRequest(frame));
    this.#keepAlive.requestSent();
    return true;
  }
}
