/**
 * The web page reads the emulator's Genesys messages with its own small copy of the content rules
 * (web/genesys-content.js, plain browser JavaScript). It must agree with the relay's
 * (src/genesys/normalize.ts), so that the agent pane shows what the guest pane shows.
 */
import { describe, expect, it } from 'vitest';
import { authorOf, normalizeContentItem } from '../../../src/genesys/normalize.js';
import type { StructuredMessage, WireContent } from '../../../src/genesys/responses.js';
import { contentItem, directionOf, entryOf, isTranscriptLine } from '../../../web/genesys-content.js';

const card = {
  title: 'Lamp',
  description: 'A light',
  image: 'https://example.invalid/lamp.png',
  actions: [
    { type: 'Link', text: 'Open', url: 'https://example.invalid/' },
    { type: 'Postback', text: 'Buy', payload: 'buy' },
    { type: 'Link', text: 'No url' },
  ],
};

const SAMPLES = [
  { contentType: 'QuickReply', quickReply: { text: 'Yes', payload: 'y', action: 'Message' } },
  {
    contentType: 'QuickReply',
    quickReply: { text: 'Pic', payload: 'p', image: 'https://example.invalid/p.png' },
  },
  { contentType: 'Card', card },
  { contentType: 'Carousel', carousel: { cards: [card, { ...card, title: 'Other', actions: [] }] } },
  {
    contentType: 'Attachment',
    attachment: {
      id: 'a1',
      mediaType: 'Image',
      url: 'https://example.invalid/a.png',
      mime: 'image/png',
      filename: 'a.png',
      fileSize: 12,
    },
  },
  { contentType: 'Attachment', attachment: { id: 'a2', mediaType: 'Strange', filename: 'b.bin' } },
  { contentType: 'ButtonResponse', buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'y' } },
  { contentType: 'ButtonResponse', buttonResponse: { type: 'Other', text: 'X', payload: 'x' } },
  {
    contentType: 'DatePicker',
    datePicker: { title: 'When?', availableTimes: [{ dateTime: '2026-12-07T10:00:00Z', duration: 30 }] },
  },
  { contentType: 'Notification', notification: { text: 'hi' } },
  { contentType: 'Card' },
] as unknown as WireContent[];

describe('web/genesys-content.js', () => {
  it.each(SAMPLES.map((sample) => [sample.contentType, sample] as const))(
    'reads %s content as the relay does',
    (_name, sample) => {
      expect(contentItem(sample)).toEqual(normalizeContentItem(sample));
    },
  );

  it('names the speaker as the relay does, and keeps typing and receipts out of the transcript', () => {
    const messages = [
      { direction: 'Inbound', type: 'Text', text: 'hi' },
      { direction: 'Outbound', type: 'Text', text: 'a', originatingEntity: 'Human' },
      { direction: 'Outbound', type: 'Text', text: 'b', originatingEntity: 'Bot' },
      { direction: 'Outbound', type: 'Structured', text: 'c' },
      {
        direction: 'Outbound',
        type: 'Event',
        events: [{ eventType: 'Presence', presence: { type: 'Disconnect' } }],
      },
    ] as unknown as StructuredMessage[];
    expect(messages.map(directionOf)).toEqual(messages.map(authorOf));
    expect(isTranscriptLine({ type: 'Event', events: [{ eventType: 'Typing' }] })).toBe(false);
    expect(isTranscriptLine({ type: 'Receipt' })).toBe(false);
    expect(isTranscriptLine(messages[4])).toBe(true);
    expect(entryOf(messages[4])).toMatchObject({ direction: 'system', events: ['presence: Disconnect'] });
    expect(
      entryOf({
        direction: 'Outbound',
        type: 'Text',
        text: 'Hi',
        originatingEntity: 'Human',
        channel: { time: '2026-12-06T07:00:00Z', from: { nickname: 'Sam' } },
      }),
    ).toEqual({
      direction: 'agent',
      text: 'Hi',
      content: [],
      sender: { nickname: 'Sam' },
      time: '2026-12-06T07:00:00Z',
      events: [],
    });
  });
});
