/**
 * Hostile frames against the public API of a local stack: every frame must get its documented answer
 * (docs/protocol.md: an `error` event with the right code, or the gateway's close code), no error answer
 * may be larger than MAX_ERROR_ANSWER_BYTES (an error repeats a bounded excerpt of its frame, never the
 * frame), nothing may crash, and the stack must still hold a normal conversation afterwards. Used by
 * `npm run fuzz` (large) and by the test suite (small).
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { EMBEDDED, startLocalStack } from '../../local/stack.js';
import { parseServerEvent, type ServerEvent } from '../../src/protocol/index.js';
import { mulberry32 } from '../support/random.js';

type Expect = { readonly error: string } | { readonly close: number };

/** The largest `error` event any frame may cause (docs/protocol.md, `error`: under 4 KB). */
export const MAX_ERROR_ANSWER_BYTES = 4096;

/** Sequence numbers past the largest sequenceId (2^31 - 1), up to the largest safe integer. */
const HUGE_SEQUENCE_IDS = [2 ** 31, 2 ** 32, 1e15, 2 ** 53 - 2, 2 ** 53 - 1] as const;

/** Characters texts may not hold (docs/protocol.md, "Characters"). */
const REFUSED_IN_TEXT = [
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
];

/** ... and the ones file names may not hold on top of them. */
const REFUSED_IN_FILENAMES = [
  ...REFUSED_IN_TEXT,
  '\t',
  '\n',
  '\u200b',
  '\u200e',
  '\u200f',
  '\u2028',
  '\ufeff',
  '\u00ad',
];

const insertAt = (random: () => number, text: string, char: string): string => {
  const at = Math.floor(random() * (text.length + 1));
  return `${text.slice(0, at)}${char}${text.slice(at)}`;
};

const base64 = (value: string | readonly number[]): string =>
  (typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value)).toString('base64');

const SESSION_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

interface Case {
  readonly name: string;
  readonly expect: Expect;
  /** The frame (text, raw bytes sent as a text frame, or binary). `needsSession`: after a `connect`. */
  make(random: () => number): { readonly data: string | Buffer; readonly binary?: boolean };
  readonly needsSession?: boolean;
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { k: value } : [value];
  return value;
}

export const CASES: readonly Case[] = [
  {
    name: 'malformed JSON',
    expect: { error: 'invalid_json' },
    make: (r) => ({
      data: pick(r, ['{', '{"action":', 'not json', '{"action":"send",}', '[1,2', '{"a":tru}', '\u0000']),
    }),
  },
  {
    name: 'not an object',
    expect: { error: 'invalid_frame' },
    make: (r) => ({ data: pick(r, ['[]', '42', '"send"', 'null', 'true', '[{"action":"send"}]']) }),
  },
  {
    name: 'unknown action',
    expect: { error: 'unknown_action' },
    make: (r) => ({
      data: JSON.stringify({
        action: pick(r, ['sendd', 'DELETE', 'admin', 'x'.repeat(100), 'constructor1']),
      }),
    }),
  },
  {
    name: 'wrong field types',
    expect: { error: 'invalid_field' },
    needsSession: true,
    make: (r) => ({
      data: JSON.stringify(
        pick(r, [
          { action: 'send', text: 123 },
          { action: 'send', text: ['a'] },
          { action: 'history', limit: 'ten' },
          { action: 'context', data: 'str' },
        ]),
      ),
    }),
  },
  {
    name: 'unknown field',
    expect: { error: 'unknown_field' },
    needsSession: true,
    make: (r) => ({
      data: JSON.stringify({
        action: 'send',
        text: 'hi',
        [pick(r, ['evil', 'admin', 'role', 'token'])]: true,
      }),
    }),
  },
  {
    name: 'text too long',
    expect: { error: 'text_too_long' },
    needsSession: true,
    make: (r) => ({
      data: JSON.stringify({ action: 'send', text: 'x'.repeat(4001 + Math.floor(r() * 20_000)) }),
    }),
  },
  {
    name: 'deeply nested',
    expect: { error: 'too_deep' },
    needsSession: true,
    make: (r) => ({
      data: JSON.stringify({ action: 'context', data: { deep: nested(33 + Math.floor(r() * 500)) } }),
    }),
  },
  {
    name: 'prototype pollution keys',
    expect: { error: 'forbidden_key' },
    needsSession: true,
    make: (r) => {
      const key = pick(r, ['__proto__', 'constructor', 'prototype']);
      return { data: `{"action":"context","data":{"a":{"${key}":{"polluted":true}}}}` };
    },
  },
  {
    name: 'number overflow',
    expect: { error: 'invalid_number' },
    needsSession: true,
    make: (r) => ({ data: `{"action":"history","limit":1e${400 + Math.floor(r() * 100)}}` }),
  },
  {
    name: 'lone surrogate',
    expect: { error: 'text_invalid' },
    needsSession: true,
    make: (r) => ({ data: `{"action":"send","text":"a\\u${pick(r, ['d800', 'dbff', 'dc00', 'dfff'])}b"}` }),
  },
  {
    name: 'sequence id out of range',
    expect: { error: 'invalid_field' },
    needsSession: true,
    make: (r) => {
      const huge = pick(r, HUGE_SEQUENCE_IDS);
      return {
        data: JSON.stringify(
          pick(r, [
            { action: 'history', afterSequenceId: huge },
            { action: 'history', beforeSequenceId: huge },
            { action: 'history', afterSequenceId: huge, limit: 1 },
            { action: 'connect', sessionId: SESSION_ID, afterSequenceId: huge },
            { action: 'send', reply: { type: 'button', text: 'Yes', payload: 'y', toSequenceId: huge } },
          ]),
        ),
      };
    },
  },
  {
    name: 'control or bidi character in text',
    expect: { error: 'text_invalid' },
    needsSession: true,
    make: (r) => {
      const text = insertAt(
        r,
        pick(r, ['hello', 'pay 10 usd', 'gnp.exe', '😀 hi']),
        pick(r, REFUSED_IN_TEXT),
      );
      return {
        data: JSON.stringify(
          pick(r, [
            { action: 'send', text },
            { action: 'send', reply: { type: 'quickReply', text, payload: 'p' } },
            { action: 'upload', filename: 'a.png', contentType: 'image/png', size: 10, caption: text },
          ]),
        ),
      };
    },
  },
  {
    name: 'spoofing file name',
    expect: { error: 'attachment_name_invalid' },
    needsSession: true,
    make: (r) => {
      const filename = pick(r, [
        'inv\u202egnp.scr',
        insertAt(r, 'invoice.pdf', pick(r, REFUSED_IN_FILENAMES)),
        insertAt(r, 'photo.png', pick(r, REFUSED_IN_FILENAMES)),
      ]);
      return { data: JSON.stringify({ action: 'upload', filename, contentType: 'image/png', size: 10 }) };
    },
  },
  {
    name: 'malformed content type',
    expect: { error: 'invalid_field' },
    needsSession: true,
    make: (r) => {
      const contentType = pick(r, [
        'image/png\r\nX-Evil: 1',
        'image/png\nSet-Cookie: a=b',
        'image/png\u0000',
        'image/png x',
        'image /png',
        'image',
        'image/*',
        '*/*',
        'image/png;charset',
        'imäge/png',
      ]);
      return { data: JSON.stringify({ action: 'upload', filename: 'a.png', contentType, size: 10 }) };
    },
  },
  {
    name: 'script-capable type by wildcard',
    expect: { error: 'attachment_type_not_allowed' },
    needsSession: true,
    make: (r) => {
      const contentType = pick(r, [
        'image/svg+xml',
        'IMAGE/SVG+XML; charset=utf-8',
        'text/html',
        'application/xhtml+xml',
      ]);
      return { data: JSON.stringify({ action: 'upload', filename: 'a.png', contentType, size: 10 }) };
    },
  },
  {
    name: 'inline bytes not of their type',
    expect: { error: 'attachment_content_mismatch' },
    needsSession: true,
    make: (r) => {
      const [contentType, bytes] = pick(r, [
        ['image/png', 'GIF89a\u0001\u0000\u0001\u0000'],
        ['image/jpeg', '\u0089PNG\r\n\u001a\n'],
        ['image/gif', '<svg onload=alert(1)>'],
        ['image/webp', 'RIFF\u0000\u0000\u0000\u0000WAVEfmt '],
        ['application/pdf', 'MZ\u0090\u0000'],
        ['text/plain', 'hi\u0000there'],
        ['text/plain', '\u00ff\u00fe\u0041'],
      ] as const);
      return {
        data: JSON.stringify({ action: 'upload', filename: 'file', contentType, data: base64(bytes) }),
      };
    },
  },
  {
    name: 'many unknown fields',
    expect: { error: 'unknown_field' },
    needsSession: true,
    make: (r) => {
      // Under the gateway's 32 KB frame limit: 27 KB of unknown names and values in.
      const frame: Record<string, unknown> = { action: pick(r, ['send', 'history', 'ping']) };
      if (frame.action === 'send') frame.text = 'hi';
      const count = 200 + Math.floor(r() * 100);
      for (let i = 0; i < count; i++) frame[`unknown_${i}_${'x'.repeat(60 + Math.floor(r() * 20))}`] = 'v';
      return { data: JSON.stringify(frame) };
    },
  },
  {
    name: 'long key in an error',
    expect: { error: 'context_invalid' },
    needsSession: true,
    make: (r) => {
      const key = `${'k'.repeat(10_000 + Math.floor(r() * 15_000))}.${pick(r, ['', 'x', '\u202e'])}`;
      return { data: JSON.stringify({ action: 'context', data: { [key]: 1 } }) };
    },
  },
  {
    name: 'frame over 32 KB',
    expect: { close: 1009 },
    make: (r) => ({
      data: JSON.stringify({ action: 'send', text: 'y'.repeat(33 * 1024 + Math.floor(r() * 10_000)) }),
    }),
  },
  {
    name: 'binary frame',
    expect: { close: 1003 },
    make: (r) => ({
      data: Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))),
      binary: true,
    }),
  },
  {
    name: 'invalid UTF-8',
    expect: { close: 1007 },
    make: (r) => ({ data: Buffer.from([0x7b, 0x22, pick(r, [0xc3, 0xff, 0xfe, 0xed]), 0x28, 0x22, 0x7d]) }),
  },
];

export interface CaseResult {
  readonly name: string;
  readonly sent: number;
  readonly expected: number;
  readonly unexpected: readonly string[];
}

export interface FuzzReport {
  readonly cases: readonly CaseResult[];
  readonly flood: {
    readonly sent: number;
    readonly accepted: number;
    readonly rateLimited: number;
    /** `service_unavailable` (documented: overloaded, retry): a handler ran out of time. */
    readonly busy: number;
    readonly other: number;

    /** The other answers by code (`no answer` for frames that got none). */
    readonly otherCodes: Readonly<Record<string, number>>;
  };
  readonly afterwards: 'conversation held' | string;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly durationMs: number;
}

/** The size in bytes of each answer, as it came off the socket. */
const answerBytes = new WeakMap<object, number>();

interface Socket {
  readonly ws: WebSocket;
  readonly events: ServerEvent[];
  next(timeoutMs?: number): Promise<ServerEvent | { readonly closed: number }>;
}

function open(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const events: ServerEvent[] = [];
    const waiters: ((value: ServerEvent | { closed: number }) => void)[] = [];
    let closed: number | undefined;
    ws.on('message', (data: Buffer) => {
      const parsed = parseServerEvent(data.toString('utf8'));
      const event = parsed.ok
        ? parsed.event
        : ({ type: 'error', code: 'internal_error', message: 'unparseable answer' } as ServerEvent);
      answerBytes.set(event, data.byteLength);
      const waiter = waiters.shift();
      if (waiter) waiter(event);
      else events.push(event);
    });
    ws.on('close', (code) => {
      closed = code;
      for (const waiter of waiters.splice(0)) waiter({ closed: code });
    });
    ws.on('error', () => {});
    ws.once('open', () =>
      resolve({
        ws,
        events,
        next: (timeoutMs = 10_000) =>
          new Promise((done) => {
            const queued = events.shift();
            if (queued) return done(queued);
            if (closed !== undefined) return done({ closed });
            const timer = setTimeout(() => done({ closed: -1 }), timeoutMs);
            waiters.push((value) => {
              clearTimeout(timer);
              done(value);
            });
          }),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function withSession(url: string): Promise<Socket> {
  const socket = await open(url);
  socket.ws.send(JSON.stringify({ action: 'connect', clientMessageId: randomUUID() }));
  const answer = await socket.next();
  if (!('type' in answer) || answer.type !== 'connect')
    throw new Error(`no session: ${JSON.stringify(answer)}`);
  return socket;
}

function isPush(event: ServerEvent): boolean {
  return (
    ['connect', 'status', 'typing', 'presence', 'readReceipt', 'context'].includes(event.type) ||
    (event.type === 'message' && event.direction !== 'guest')
  );
}

function describeAnswer(answer: ServerEvent | { closed: number }): string {
  if ('closed' in answer) return answer.closed === -1 ? 'no answer' : `close ${answer.closed}`;
  return answer.type === 'error' ? `error ${answer.code}` : answer.type;
}

async function runCase(url: string, c: Case, count: number, random: () => number): Promise<CaseResult> {
  const unexpected: string[] = [];
  let expected = 0;
  let shared: Socket | undefined;
  for (let i = 0; i < count; i++) {
    const { data, binary } = c.make(random);
    const closes = 'close' in c.expect;
    // A close ends the connection: those cases get one each; error answers keep it, so they share one.
    const connect = () => (c.needsSession ? withSession(url) : open(url));
    let socket: Socket;
    if (closes) {
      socket = await connect();
    } else {
      shared ??= await connect();
      socket = shared;
    }
    socket.ws.send(data, { binary: binary === true });
    let answer = await socket.next();
    // The worker's own pushes on a session (its `connect` once Genesys is up, typing, …) are not answers.
    while ('type' in answer && isPush(answer)) answer = await socket.next();
    const ok =
      'close' in c.expect
        ? 'closed' in answer && answer.closed === c.expect.close
        : 'type' in answer && answer.type === 'error' && answer.code === c.expect.error;
    const bytes = 'type' in answer ? (answerBytes.get(answer) ?? 0) : 0;
    if (ok && bytes <= MAX_ERROR_ANSWER_BYTES) expected++;
    else if (ok) unexpected.push(`${describeAnswer(answer)} of ${bytes} bytes`);
    else unexpected.push(describeAnswer(answer));
    if (closes) socket.ws.terminate();
  }
  shared?.ws.close();
  return { name: c.name, sent: count, expected, unexpected: [...new Set(unexpected)] };
}

/** Sends `count` messages at once on one session: each is stored (pending) or refused with rate_limited. */
async function flood(url: string, count: number): Promise<FuzzReport['flood']> {
  const socket = await withSession(url);
  for (let i = 0; i < count; i++)
    socket.ws.send(JSON.stringify({ action: 'send', text: `flood ${i}`, clientMessageId: `flood-${i}` }));
  let accepted = 0;
  let rateLimited = 0;
  let busy = 0;
  let other = 0;
  let answered = 0;
  const otherCodes: Record<string, number> = {};
  while (answered < count) {
    const answer = await socket.next(20_000);
    if ('closed' in answer) break;
    if (answer.type === 'message' && answer.clientMessageId?.startsWith('flood-')) {
      accepted++;
      answered++;
    } else if (answer.type === 'error' && answer.code === 'rate_limited') {
      rateLimited++;
      answered++;
    } else if (answer.type === 'error' && answer.code === 'service_unavailable') {
      busy++;
      answered++;
    } else if (answer.type === 'error') {
      other++;
      answered++;
      otherCodes[answer.code] = (otherCodes[answer.code] ?? 0) + 1;
    }
    // status, connect and other worker events are not answers to the frames.
  }
  socket.ws.close();
  if (answered < count) otherCodes['no answer'] = count - answered;
  return { sent: count, accepted, rateLimited, busy, other: other + (count - answered), otherCodes };
}

async function conversationStillWorks(url: string): Promise<string> {
  const socket = await withSession(url);
  socket.ws.send(
    JSON.stringify({ action: 'send', text: 'hello after the fuzz', clientMessageId: randomUUID() }),
  );
  for (;;) {
    const answer = await socket.next(15_000);
    if ('closed' in answer) return `no reply (${describeAnswer(answer)})`;
    if (answer.type === 'message' && answer.direction === 'bot') {
      socket.ws.close();
      return 'conversation held';
    }
  }
}

export async function runFuzz(options: {
  readonly perCase: number;
  readonly flood: number;
  readonly seed: number;
}): Promise<FuzzReport> {
  const started = Date.now();
  const random = mulberry32(options.seed);
  const rssBefore = process.memoryUsage().rss;
  const stack = await startLocalStack(EMBEDDED);
  try {
    const url = `${stack.wsUrl}?token=${encodeURIComponent(stack.token)}`;
    const cases: CaseResult[] = [];
    for (const c of CASES) cases.push(await runCase(url, c, options.perCase, random));
    const floodResult = await flood(url, options.flood);
    const afterwards = await conversationStillWorks(url);
    return {
      cases,
      flood: floodResult,
      afterwards,
      rssBeforeMb: Math.round(rssBefore / 1024 / 1024),
      rssAfterMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      durationMs: Date.now() - started,
    };
  } finally {
    await stack.stop();
  }
}

export function failed(report: FuzzReport): boolean {
  return (
    report.cases.some((c) => c.expected !== c.sent) ||
    report.flood.other > 0 ||
    report.flood.busy > 0 ||
    report.flood.accepted + report.flood.rateLimited !== report.flood.sent ||
    report.afterwards !== 'conversation held'
  );
}
