import { describe, expect, it } from 'vitest';
import {
  disconnectEvent,
  echoReply,
  frames,
  inboundMessage,
  mediaTypeOf,
  outboundMessage,
  receiptMessage,
  replyContent,
  typingEvent,
} from '../../../../src/genesys/emulator/frames.js';
import { authorOf, normalizeContent, senderOf } from '../../../../src/genesys/normalize.js';
import { parseGenesysFrame } from '../../../../src/genesys/responses.js';

const base = { id: 'a'.repeat(32), time: '2026-01-05T09:00:00.000Z', messageId: 'm-1', correlationId: 'c-1' };
const wire = (frame: unknown) => JSON.stringify(frame);

describe('error frames', () => {
  it('build the reference error string byte for byte', () => {
    expect(wire(frames.error(4011, 'message too long'))).toBe(
      '{"type":"response","class":"string","code":4011,"body":"message too long"}',
    );
    expect(wire(frames.error(4011, 'message too long', 't-1'))).toBe(
      '{"type":"response","class":"string","code":4011,"body":"message too long","tracingId":"t-1"}',
    );
  });

  it('build the 429 TooManyRequestsErrorMessage byte for byte', () => {
    expect(wire(frames.tooManyRequests(3))).toBe(
      '{"type":"response","class":"TooManyRequestsErrorMessage","code":429,"body":{"retryAfter":3,"errorCode":4029,"errorMessage":"Message rate too high for this session"}}',
    );
  });

  it('parse with the project client parser into typed errors', () => {
    const error = parseGenesysFrame(wire(frames.error(4013, 'too big', 't')));
    expect(error).toMatchObject({ kind: 'error', tracingId: 't', error: { genesysCode: 4013 } });
    expect(parseGenesysFrame(wire(frames.tooManyRequests(2)))).toMatchObject({
      kind: 'error',
      error: { retryAfterMs: 2000 },
    });
  });
});

describe('event frames', () => {
  it('match the reference fixtures', () => {
    expect(wire(frames.sessionExpired())).toBe(
      '{"type":"response","class":"SessionExpiredEvent","code":200,"body":{}}',
    );
    expect(wire(frames.sessionCleared())).toBe(
      '{"type":"message","class":"SessionClearedEvent","code":200,"body":{}}',
    );
    expect(wire(frames.connectionClosed())).toBe(
      '{"type":"message","class":"ConnectionClosedEvent","code":200,"body":{}}',
    );
    expect(wire(frames.attachmentDeleted('attachment_id'))).toBe(
      '{"type":"message","class":"AttachmentDeletedResponse","code":200,"body":{"attachmentId":"attachment_id"}}',
    );
    expect(wire(frames.generateUrlError('a-1', 4001, 'nope'))).toBe(
      '{"type":"message","class":"GenerateUrlError","code":200,"body":{"attachmentId":"a-1","errorCode":4001,"errorMessage":"nope"}}',
    );
  });

  it.each([
    [frames.jwt('h.p.s', 1623675564), 'jwt'],
    [frames.presignedUrl({ attachmentId: 'a', url: 'http://x/u', headers: {} }), 'presignedUrl'],
    [frames.uploadSuccess('a', 'http://x/d', base.time), 'uploadSuccess'],
    [frames.uploadFailure('a', 4002, 'size', base.time), 'uploadFailure'],
    [frames.sessionExpired(), 'sessionExpired'],
    [frames.sessionCleared(), 'sessionCleared'],
    [frames.connectionClosed(), 'connectionClosed'],
    [frames.attachmentDeleted('a'), 'attachmentDeleted'],
    [frames.generateUrlError('a', 4001, 'x'), 'generateUrlError'],
  ])('%# parses as %s', (frame, kind) => {
    expect(parseGenesysFrame(wire(frame)).kind).toBe(kind);
  });
});

describe('message bodies', () => {
  it('echo a guest message as Inbound with its metadata, a correlationId and originatingEntity ""', () => {
    const body = inboundMessage({
      ...base,
      message: { type: 'Text', text: 'Hi', metadata: { id: 'client-1' } },
    });
    expect(body).toEqual({
      id: base.id,
      type: 'Text',
      text: 'Hi',
      direction: 'Inbound',
      channel: { time: base.time, messageId: 'm-1' },
      metadata: { id: 'client-1', correlationId: 'c-1' },
      originatingEntity: '',
    });
    expect(authorOf(body)).toBe('guest');
  });

  it('answer echo with "ping" and the expiry as strings', () => {
    expect(echoReply({ ...base, durationSeconds: 86400, expirationDate: 1_700_000_000 })).toEqual({
      text: 'ping',
      type: 'Text',
      direction: 'Inbound',
      id: base.id,
      channel: { time: base.time, messageId: 'm-1' },
      metadata: { durationSeconds: '86400', expirationDate: '1700000000' },
    });
  });

  it('make a text reply Text and a reply with buttons or cards Structured', () => {
    expect(outboundMessage({ ...base, reply: { text: 'hi' } }).type).toBe('Text');
    expect(
      outboundMessage({ ...base, reply: { text: 'pick', quickReplies: [{ text: 'A', payload: 'a' }] } }).type,
    ).toBe('Structured');
    expect(outboundMessage({ ...base, reply: { card: { title: 'T' } } }).type).toBe('Structured');
  });

  it('mark a human agent with originatingEntity Human and channel.from, a bot with Bot', () => {
    const human = outboundMessage({
      ...base,
      reply: { from: 'agent', text: 'hi' },
      from: { nickname: 'Alex' },
    });
    expect(human).toMatchObject({
      originatingEntity: 'Human',
      channel: { type: 'Private', from: { nickname: 'Alex' } },
    });
    expect(authorOf(human)).toBe('agent');
    expect(senderOf(human)).toEqual({ nickname: 'Alex' });
    const bot = outboundMessage({ ...base, reply: { text: 'beep' } });
    expect(bot.originatingEntity).toBe('Bot');
    expect(bot.channel?.from).toBeUndefined();
    expect(authorOf(bot)).toBe('bot');
  });

  it('build content the project normaliser understands', () => {
    const content = replyContent(
      {
        quickReplies: [{ text: 'Yes', payload: 'y' }],
        card: { title: 'Card', actions: [{ type: 'Postback', text: 'Go', payload: 'go' }] },
        carousel: { cards: [{ title: 'One' }, { title: 'Two', description: 'd', image: 'https://x/i.png' }] },
      },
      {
        id: 'att',
        filename: 'a.pdf',
        mediaType: 'File',
        fileSize: 3,
        mime: 'application/pdf',
        url: 'http://x/a',
      },
    );
    expect(normalizeContent(content)).toEqual([
      { kind: 'quickReply', text: 'Yes', payload: 'y' },
      { kind: 'card', title: 'Card', actions: [{ type: 'postback', text: 'Go', payload: 'go' }] },
      {
        kind: 'carousel',
        cards: [
          { title: 'One', actions: [] },
          { title: 'Two', description: 'd', image: 'https://x/i.png', actions: [] },
        ],
      },
      {
        kind: 'attachment',
        id: 'att',
        filename: 'a.pdf',
        mediaType: 'file',
        mime: 'application/pdf',
        size: 3,
        url: 'http://x/a',
      },
    ]);
  });

  it('build typing with a duration in ms and its speaker, and a read-only disconnect with metadata.readOnly "true"', () => {
    const botTyping = typingEvent({ ...base, durationMs: 1500, from: 'bot' });
    expect(botTyping.events).toEqual([{ eventType: 'Typing', typing: { type: 'On', duration: 1500 } }]);
    expect(botTyping.originatingEntity).toBe('Bot');
    expect(typingEvent({ ...base, durationMs: 1500, from: 'agent' }).originatingEntity).toBe('Human');
    const readOnly = disconnectEvent({ ...base, readOnly: true });
    expect(readOnly).toMatchObject({
      type: 'Event',
      direction: 'Outbound',
      events: [{ eventType: 'Presence', presence: { type: 'Disconnect' } }],
      metadata: { readOnly: 'true' },
    });
    expect(disconnectEvent({ ...base, readOnly: false }).metadata).toEqual({ correlationId: 'c-1' });
  });

  it('give a receipt the id of the message it refers to', () => {
    expect(receiptMessage({ referencedId: 'guest-msg', time: base.time, status: 'Read' })).toEqual({
      id: 'guest-msg',
      type: 'Receipt',
      status: 'Read',
      direction: 'Outbound',
      channel: { time: base.time },
    });
  });

  it('derive mediaType from the MIME type', () => {
    expect(['image/png', 'video/mp4', 'audio/ogg', 'application/pdf'].map(mediaTypeOf)).toEqual([
      'Image',
      'Video',
      'Audio',
      'File',
    ]);
  });
});
