import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenesysRateLimitError, GenesysRequestError } from '../../../src/genesys/errors.js';
import {
  authorOf,
  type NormalizedContent,
  normalizeContent,
  senderOf,
} from '../../../src/genesys/normalize.js';
import { ECHO_TRACING_ID, request, serializeRequest } from '../../../src/genesys/requests.js';
import {
  type GenesysFrame,
  messageTime,
  parseGenesysFrame,
  type StructuredMessage,
} from '../../../src/genesys/responses.js';
import type { ContentItem } from '../../../src/protocol/common.js';

/** Frames copied from the protocol reference (docs/genesys-guest-api.md, §3–§5, §10). */
const reference = {
  sessionResponse:
    '{"type":"response","class":"SessionResponse","code":200,"body":{"connected":true,"newSession":true,"readOnly":false,"maxCustomDataBytes":100,"allowedMedia":{"inbound":{"fileTypes":[{"type":"video/mpg"},{"type":"video/3gpp"}],"maxFileSizeKB":10240}},"blockedExtensions":[".ade",".adp"],"clearedExistingSession":false}}',
  minimalSessionResponse:
    '{"type":"response","class":"SessionResponse","code":200,"body":{"connected":true,"newSession":true}}',
  tooManyRequests:
    '{"type":"response","class":"TooManyRequestsErrorMessage","code":429,"body":{"retryAfter":3,"errorCode":4029,"errorMessage":"Message rate too high for this session"}}',
  customAttributesTooLarge:
    '{"type":"response","class":"string","code":4013,"body":"Custom Attributes in channel metadata is larger than 2048 bytes"}',
  messageTooLong: '{"type":"response","class":"string","code":4011,"body":"message too long"}',
  inboundEcho:
    '{"type":"message","class":"StructuredMessage","code":200,"body":{"text":"Hello world!","direction":"Inbound","id":"test_id","channel":{"time":"2022-08-22T19:24:26.704Z","messageId":"message_id"},"type":"Text"},"tracingId":"some_custom_message_id"}',
  quickReplies:
    '{"type":"message","class":"StructuredMessage","code":200,"body":{"type":"Structured","text":"What would you like to do?","direction":"Outbound","id":"msg_id","channel":{"time":"2026-01-06T13:26:15.174Z","type":"Private","from":{},"to":{}},"content":[{"contentType":"QuickReply","quickReply":{"text":"Yes","payload":"cookie1"}},{"contentType":"QuickReply","quickReply":{"text":"No","payload":"cookie2"}}],"metadata":{},"originatingEntity":"Bot"}}',
  disconnect:
    '{"type":"message","class":"StructuredMessage","code":200,"body":{"direction":"Outbound","id":"d1","channel":{"time":"2026-01-06T13:26:16.000Z","messageId":"m1"},"type":"Event","events":[{"eventType":"Presence","presence":{"type":"Disconnect"}}]}}',
  jwt: '{"type":"response","class":"JwtResponse","code":200,"body":{"jwt":"some.jwt.value","exp":1623675564}}',
  presignedUrl:
    '{"type":"response","class":"PresignedUrlResponse","code":200,"body":{"attachmentId":"88888888-8888-8888-8888-888888888888","headers":{"x-amz-tagging":"organizationId=9999&originPlatform=PureCloud&role=darth&owner=Dev-CloudAppsDarth@genesys.com"},"url":"https://uploads.example/put","fileName":"a.png","fileSize":100,"fileType":"image/png"}}',
  uploadSuccess:
    '{"type":"message","class":"UploadSuccessEvent","code":200,"body":{"attachmentId":"a1","downloadUrl":"https://downloads.example/a1","timestamp":"2021-04-21T14:03:09.581Z"}}',
  uploadFailure:
    '{"type":"message","class":"UploadFailureEvent","code":200,"body":{"attachmentId":"a1","errorCode":4001,"errorMessage":"File type invalid","timestamp":"2021-04-21T14:03:09.581Z"}}',
  generateUrlError:
    '{"type":"message","class":"GenerateUrlError","code":200,"body":{"attachmentId":"a1","errorCode":4001,"errorMessage":"File type invalid"}}',
  attachmentDeleted:
    '{"type":"message","class":"AttachmentDeletedResponse","code":200,"body":{"attachmentId":"a1"}}',
  sessionExpired: '{"type":"response","class":"SessionExpiredEvent","code":200,"body":{}}',
  sessionCleared: '{"type":"message","class":"SessionClearedEvent","code":200,"body":{}}',
  connectionClosed:
    '{"type":"message","class":"ConnectionClosedEvent","code":200,"body":{"reason":"signedIn"}}',
  logout: '{"type":"message","class":"LogoutEvent","code":200,"body":{}}',
} as const;

function parse(raw: string): GenesysFrame {
  return parseGenesysFrame(raw);
}

describe('parseGenesysFrame', () => {
  it('reads a full SessionResponse', () => {
    const frame = parse(reference.sessionResponse);
    expect(frame).toEqual({
      kind: 'sessionResponse',
      body: {
        connected: true,
        newSession: true,
        readOnly: false,
        maxCustomDataBytes: 100,
        allowedMedia: {
          inbound: { fileTypes: [{ type: 'video/mpg' }, { type: 'video/3gpp' }], maxFileSizeKB: 10240 },
        },
        blockedExtensions: ['.ade', '.adp'],
        clearedExistingSession: false,
      },
    });
    expect(parse(reference.minimalSessionResponse)).toEqual({
      kind: 'sessionResponse',
      body: { connected: true, newSession: true },
    });
  });

  it('turns a 429 into a typed rate-limit error with retryAfter in milliseconds', () => {
    const frame = parse(reference.tooManyRequests);
    if (frame.kind !== 'error') throw new Error(`got ${frame.kind}`);
    expect(frame.error).toBeInstanceOf(GenesysRateLimitError);
    expect((frame.error as GenesysRateLimitError).retryAfterMs).toBe(3000);
    expect(frame.error.genesysCode).toBe(429);
  });

  it.each([
    [reference.customAttributesTooLarge, 4013],
    [reference.messageTooLong, 4011],
  ])('turns an error string into a typed request error (%s)', (raw, code) => {
    const frame = parse(raw);
    if (frame.kind !== 'error') throw new Error(`got ${frame.kind}`);
    expect(frame.error).toBeInstanceOf(GenesysRequestError);
    expect(frame.error.genesysCode).toBe(code);
    expect(frame.error.code).toBe('GENESYS_REQUEST_REJECTED');
  });

  it('keeps the tracingId of the inbound echo, which acknowledges our send', () => {
    const frame = parse(reference.inboundEcho);
    expect(frame).toMatchObject({
      kind: 'structuredMessage',
      type: 'message',
      tracingId: 'some_custom_message_id',
    });
    if (frame.kind !== 'structuredMessage') throw new Error('unreachable');
    expect(authorOf(frame.body)).toBe('guest');
    expect(messageTime(frame.body)).toBe(Date.parse('2022-08-22T19:24:26.704Z'));
  });

  it('reads quick replies from a bot message', () => {
    const frame = parse(reference.quickReplies);
    if (frame.kind !== 'structuredMessage') throw new Error('unreachable');
    expect(authorOf(frame.body)).toBe('bot');
    expect(normalizeContent(frame.body.content)).toEqual([
      { kind: 'quickReply', text: 'Yes', payload: 'cookie1' },
      { kind: 'quickReply', text: 'No', payload: 'cookie2' },
    ]);
    expect(senderOf(frame.body)).toBeUndefined();
  });

  it('reads a presence disconnect event', () => {
    const frame = parse(reference.disconnect);
    if (frame.kind !== 'structuredMessage') throw new Error('unreachable');
    expect(frame.body.events).toEqual([{ eventType: 'Presence', presence: { type: 'Disconnect' } }]);
  });

  it('reads JWT, presigned URL, upload and attachment responses', () => {
    expect(parse(reference.jwt)).toEqual({ kind: 'jwt', body: { jwt: 'some.jwt.value', exp: 1623675564 } });
    expect(parse(reference.presignedUrl)).toMatchObject({
      kind: 'presignedUrl',
      body: {
        attachmentId: '88888888-8888-8888-8888-888888888888',
        url: 'https://uploads.example/put',
        headers: { 'x-amz-tagging': expect.stringContaining('originPlatform=PureCloud') },
        fileSize: 100,
      },
    });
    expect(parse(reference.uploadSuccess)).toEqual({
      kind: 'uploadSuccess',
      body: {
        attachmentId: 'a1',
        downloadUrl: 'https://downloads.example/a1',
        timestamp: '2021-04-21T14:03:09.581Z',
      },
    });
    expect(parse(reference.uploadFailure)).toMatchObject({
      kind: 'uploadFailure',
      body: { errorCode: 4001 },
    });
    expect(parse(reference.generateUrlError)).toMatchObject({
      kind: 'generateUrlError',
      body: { errorCode: 4001 },
    });
    expect(parse(reference.attachmentDeleted)).toEqual({
      kind: 'attachmentDeleted',
      body: { attachmentId: 'a1' },
    });
  });

  it('reads session lifecycle events', () => {
    expect(parse(reference.sessionExpired)).toEqual({ kind: 'sessionExpired' });
    expect(parse(reference.sessionCleared)).toEqual({ kind: 'sessionCleared' });
    expect(parse(reference.connectionClosed)).toEqual({ kind: 'connectionClosed', reason: 'signedIn' });
    expect(parse(reference.logout)).toEqual({ kind: 'logout' });
  });

  it('tolerates unknown classes, content types and keys', () => {
    expect(parse('{"type":"message","class":"FutureEvent","code":200,"body":{}}')).toEqual({
      kind: 'unknown',
      className: 'FutureEvent',
    });
    const frame = parse(
      '{"type":"message","class":"StructuredMessage","code":200,"newKey":1,"body":{"id":"x","type":"Structured","direction":"Outbound","content":[{"contentType":"Hologram","hologram":{}}],"extra":true}}',
    );
    if (frame.kind !== 'structuredMessage') throw new Error('unreachable');
    expect(normalizeContent(frame.body.content)).toEqual([{ kind: 'unknown', contentType: 'Hologram' }]);
  });

  it('dispatches on class, not on type (implementations disagree on type)', () => {
    expect(parse(reference.generateUrlError.replace('"type":"message"', '"type":"response"')).kind).toBe(
      'generateUrlError',
    );
  });

  it('never throws on any input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
        ),
        (raw) => {
          expect(typeof parseGenesysFrame(raw).kind).toBe('string');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('request builders', () => {
  it('build configureSession with the journey context Genesys’ SDK sends', () => {
    expect(JSON.parse(serializeRequest(request.configureSession({ token: 't', deploymentId: 'd' })))).toEqual(
      {
        action: 'configureSession',
        token: 't',
        deploymentId: 'd',
        journeyContext: { customer: { id: 't', idType: 'cookie' }, customerSession: { id: '', type: 'web' } },
      },
    );
  });

  it('build a text message with attributes inside message.channel and our id in metadata', () => {
    expect(
      request.text({ token: 't', tracingId: 'tr', text: 'Hello', customAttributes: { A: 'B' } }),
    ).toEqual({
      action: 'onMessage',
      token: 't',
      tracingId: 'tr',
      message: {
        type: 'Text',
        text: 'Hello',
        metadata: { id: 'tr' },
        channel: { metadata: { customAttributes: { A: 'B' } } },
      },
    });
  });

  it('build an attachment message as the mobile SDK does', () => {
    const built = request.text({
      token: 't',
      tracingId: 'tr',
      text: 'see file',
      attachmentIds: ['abcd-1234'],
    });
    expect(built.message.content).toEqual([{ contentType: 'Attachment', attachment: { id: 'abcd-1234' } }]);
  });

  it('build quick-reply answers as Text and card postbacks as Structured', () => {
    const quick = request.text({
      token: 't',
      tracingId: 'q',
      buttonResponse: { text: 'Yes', payload: 'cookie1', type: 'QuickReply' },
    });
    expect(quick.message).toMatchObject({
      type: 'Text',
      text: 'Yes',
      content: [
        {
          contentType: 'ButtonResponse',
          buttonResponse: { text: 'Yes', payload: 'cookie1', type: 'QuickReply' },
        },
      ],
    });
    const postback = request.text({
      token: 't',
      tracingId: 'p',
      buttonResponse: { text: 'Buy', payload: 'buy', type: 'Button' },
    });
    expect(postback.message.type).toBe('Structured');
  });

  it('build typing, presence and echo exactly as the reference shows', () => {
    expect(request.typing({ token: 't' })).toEqual({
      action: 'onMessage',
      token: 't',
      message: { type: 'Event', events: [{ eventType: 'Typing', typing: { type: 'On' } }] },
    });
    expect(request.presence({ token: 't', type: 'Join', customAttributes: { A: 'B' } })).toEqual({
      action: 'onMessage',
      token: 't',
      message: {
        type: 'Event',
        events: [{ eventType: 'Presence', presence: { type: 'Join' } }],
        channel: { metadata: { customAttributes: { A: 'B' } } },
      },
    });
    expect(request.echo({ token: 't' })).toEqual({
      action: 'echo',
      token: 't',
      tracingId: ECHO_TRACING_ID,
      message: { type: 'Text', text: 'ping' },
    });
    expect(Buffer.from(ECHO_TRACING_ID, 'base64').toString()).toBe('HealthCheckMessageId');
  });

  it('build attachment and session requests', () => {
    expect(
      request.onAttachment({ token: 't', fileName: 'a.png', fileType: 'image/png', fileSize: 5 }),
    ).toEqual({
      action: 'onAttachment',
      token: 't',
      fileName: 'a.png',
      fileType: 'image/png',
      fileSize: 5,
      errorsAsJson: true,
    });
    expect(request.closeSession({ token: 't' })).toEqual({
      action: 'closeSession',
      token: 't',
      closeAllConnections: true,
    });
    expect(request.deleteAttachment({ token: 't', attachmentId: 'a' })).toEqual({
      action: 'deleteAttachment',
      token: 't',
      attachmentId: 'a',
    });
  });
});

describe('normalisation', () => {
  it('produces content the public protocol can carry unchanged (checked by the compiler)', () => {
    const passThrough = (content: NormalizedContent): ContentItem => content;
    expect(passThrough({ kind: 'unknown', contentType: 'X' })).toEqual({ kind: 'unknown', contentType: 'X' });
  });

  const message = (patch: Partial<StructuredMessage>): StructuredMessage => ({
    id: 'm',
    type: 'Structured',
    direction: 'Outbound',
    ...patch,
  });

  it('names human agents, bots and the guest', () => {
    expect(authorOf(message({ originatingEntity: 'Human' }))).toBe('agent');
    expect(authorOf(message({ originatingEntity: 'Bot' }))).toBe('bot');
    expect(authorOf(message({ direction: 'Inbound' }))).toBe('guest');
  });

  it('reads the sender from channel.from', () => {
    expect(
      senderOf(
        message({ channel: { from: { firstName: 'Ada', lastName: 'L', nickname: 'ada', image: 'i' } } }),
      ),
    ).toEqual({
      name: 'Ada L',
      nickname: 'ada',
      image: 'i',
    });
  });

  it('normalises cards, carousels, attachments and date pickers', () => {
    const card = {
      title: 'Plan',
      description: 'Best',
      actions: [
        { type: 'Link', text: 'More', url: 'https://example.com' },
        { type: 'Postback', text: 'Buy', payload: 'buy' },
      ],
    };
    expect(
      normalizeContent([
        { contentType: 'Card', card },
        { contentType: 'Carousel', carousel: { cards: [card] } },
        {
          contentType: 'Attachment',
          attachment: {
            id: 'a',
            filename: 'image.png',
            mediaType: 'Image',
            fileSize: 100,
            mime: 'image/png',
            url: 'https://x',
          },
        },
        {
          contentType: 'DatePicker',
          datePicker: {
            title: 'When?',
            availableTimes: [{ dateTime: '2026-01-01T10:00:00Z', duration: 30 }],
          },
        },
      ]),
    ).toEqual([
      {
        kind: 'card',
        title: 'Plan',
        description: 'Best',
        actions: [
          { type: 'link', text: 'More', url: 'https://example.com' },
          { type: 'postback', text: 'Buy', payload: 'buy' },
        ],
      },
      {
        kind: 'carousel',
        cards: [
          {
            title: 'Plan',
            description: 'Best',
            actions: [
              { type: 'link', text: 'More', url: 'https://example.com' },
              { type: 'postback', text: 'Buy', payload: 'buy' },
            ],
          },
        ],
      },
      {
        kind: 'attachment',
        id: 'a',
        filename: 'image.png',
        mediaType: 'image',
        mime: 'image/png',
        size: 100,
        url: 'https://x',
      },
      {
        kind: 'datePicker',
        title: 'When?',
        availableTimes: [{ dateTime: '2026-01-01T10:00:00Z', durationMinutes: 30 }],
      },
    ]);
  });
});
