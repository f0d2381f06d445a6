import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPT } from '../../../../src/genesys/emulator/default-script.js';
import { outboundMessage } from '../../../../src/genesys/emulator/frames.js';
import {
  type BotScript,
  findRule,
  hasContent,
  parseBotScript,
  parseReply,
  repliesFor,
  ruleMatches,
  ScriptValidationError,
} from '../../../../src/genesys/emulator/scripts.js';

function issuesOf(value: unknown): readonly string[] {
  try {
    parseBotScript(value);
  } catch (error) {
    if (error instanceof ScriptValidationError) return error.issues;
    throw error;
  }
  throw new Error('the script validated');
}

describe('parseBotScript', () => {
  it('accepts the default script and freezes it', () => {
    const script = parseBotScript(DEFAULT_SCRIPT);
    expect(script).toEqual(DEFAULT_SCRIPT);
    expect(Object.isFrozen(script.rules)).toBe(true);
  });

  it('accepts a minimal script with no rules', () => {
    expect(parseBotScript({ name: 'quiet', rules: [] })).toEqual({ name: 'quiet', rules: [] });
  });

  it('names the path of every problem', () => {
    const issues = issuesOf({
      name: '',
      rules: [
        { match: {}, replies: [{ text: 'x' }] },
        { match: { regex: '(' }, replies: [{ text: 'x' }] },
        { match: { contains: 'a', flags: 'g' }, replies: [{ text: 'x' }] },
        { match: { equals: 'a' }, replies: [] },
      ],
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        expect.stringMatching(/^rules\[0\]\.match: a match needs at least one of/),
        'rules[1].match.regex: not a valid regular expression',
        'rules[2].match.flags: flags only apply to regex',
        expect.stringMatching(/^rules\[3\]\.replies: /),
      ]),
    );
  });

  it('refuses unknown keys, so that a typo in a script cannot pass silently', () => {
    expect(issuesOf({ name: 'x', rules: [], fallbak: [] })).toEqual([expect.stringContaining('fallbak')]);
    expect(issuesOf({ name: 'x', rules: [{ match: { contains: 'a' }, replies: [{ txt: 'hi' }] }] })).toEqual(
      expect.arrayContaining([expect.stringContaining('txt')]),
    );
  });

  it('refuses replies that do nothing, bad URLs and out-of-range waits', () => {
    const reply = (value: unknown) => issuesOf({ name: 'x', rules: [], fallback: [value] });
    expect(reply({ from: 'agent' })[0]).toMatch(/a reply must do something/);
    expect(reply({ text: 'x', typingMs: -1 })[0]).toMatch(/^fallback\[0\]\.typingMs/);
    expect(reply({ text: 'x', delayMs: 1.5 })[0]).toMatch(/^fallback\[0\]\.delayMs/);
    expect(reply({ attachment: { filename: 'a', mime: 'nope', mediaType: 'File' } })[0]).toMatch(/mime/);
    expect(
      reply({ card: { title: 't', actions: [{ type: 'Link', text: 'go', url: 'javascript:alert(1)' }] } })[0],
    ).toMatch(/url/);
    expect(reply({ quickReplies: [] })[0]).toMatch(/quickReplies/);
  });

  it('puts the script name in the error message', () => {
    expect(() => parseBotScript({ name: 'mine', rules: 'no' })).toThrow(
      /Invalid bot script "mine":\n {2}rules: /,
    );
  });
});

describe('parseReply', () => {
  it('accepts a disconnect-only reply and refuses an empty one', () => {
    expect(parseReply({ disconnect: { readOnly: false } })).toEqual({ disconnect: { readOnly: false } });
    expect(() => parseReply({})).toThrow(ScriptValidationError);
  });
});

describe('ruleMatches', () => {
  it('matches contains and equals case-insensitively, equals on the trimmed whole text', () => {
    expect(ruleMatches({ contains: 'ORDER' }, { text: 'my order please' })).toBe(true);
    expect(ruleMatches({ equals: 'Slow' }, { text: '  slow ' })).toBe(true);
    expect(ruleMatches({ equals: 'slow' }, { text: 'slowly' })).toBe(false);
  });

  it("tests regex with 'i' by default, or with the given flags", () => {
    expect(ruleMatches({ regex: '^bye' }, { text: 'Bye now' })).toBe(true);
    expect(ruleMatches({ regex: '^bye', flags: '' }, { text: 'Bye now' })).toBe(false);
  });

  it('matches payload exactly, and requires every condition given', () => {
    expect(ruleMatches({ payload: 'yes' }, { text: 'Yes', payload: 'yes' })).toBe(true);
    expect(ruleMatches({ payload: 'yes' }, { text: 'yes' })).toBe(false);
    expect(ruleMatches({ payload: 'plan', contains: 'pro' }, { text: 'Choose Pro', payload: 'plan' })).toBe(
      true,
    );
    expect(ruleMatches({ payload: 'plan', contains: 'pro' }, { text: 'Choose Plus', payload: 'plan' })).toBe(
      false,
    );
  });
});

describe('repliesFor', () => {
  const script: BotScript = {
    name: 't',
    greeting: [{ text: 'hello' }],
    rules: [
      { match: { contains: 'a' }, replies: [{ text: 'first' }] },
      { match: { contains: 'ab' }, replies: [{ text: 'second' }] },
    ],
    fallback: [{ text: 'fallback' }],
  };

  it('takes the first matching rule', () => {
    expect(findRule(script, { text: 'ab' })?.replies).toEqual([{ text: 'first' }]);
    expect(repliesFor(script, { text: 'ab' }, false)).toEqual([{ text: 'first' }]);
  });

  it('greets on the first message, then adds a matching rule but never the fallback', () => {
    expect(repliesFor(script, { text: 'xyz' }, true)).toEqual([{ text: 'hello' }]);
    expect(repliesFor(script, { text: 'a' }, true)).toEqual([{ text: 'hello' }, { text: 'first' }]);
  });

  it('falls back when nothing matches, and answers nothing without a fallback', () => {
    expect(repliesFor(script, { text: 'xyz' }, false)).toEqual([{ text: 'fallback' }]);
    expect(repliesFor({ name: 'bare', rules: [] }, { text: 'xyz' }, true)).toEqual([]);
  });
});

describe('the default script', () => {
  const answer = (text: string, payload?: string) => findRule(DEFAULT_SCRIPT, { text, payload })?.replies;

  it.each([
    ['menu', 'quickReplies'],
    ['Show a card', 'card'],
    ['carousel please', 'carousel'],
    ['send me the file', 'attachment'],
  ] as const)('answers "%s" with a %s', (text, key) => {
    expect(answer(text)?.some((reply) => reply[key] !== undefined)).toBe(true);
  });

  it('hands over to a human agent, types slowly, and disconnects on bye', () => {
    expect(answer('talk to a person')?.some((r) => r.from === 'agent' && r.nickname === 'Alex')).toBe(true);
    expect(answer('slow')?.[0]?.typingMs).toBe(3000);
    expect(answer('ok bye')?.at(-1)?.disconnect).toEqual({});
  });

  it('answers its own card and carousel buttons by payload', () => {
    expect(answer('Track', 'order-1042')?.[0]?.text).toMatch(/1042/);
    expect(answer('Choose Pro', 'plan')?.[0]?.text).toMatch(/Good choice/);
  });

  it('gives every message it can send a string text, cards and files included', () => {
    const replies = [
      ...(DEFAULT_SCRIPT.greeting ?? []),
      ...DEFAULT_SCRIPT.rules.flatMap((rule) => rule.replies),
      ...(DEFAULT_SCRIPT.fallback ?? []),
    ].filter(hasContent);
    const base = { id: 'i', time: '2026-01-05T09:00:00.000Z', messageId: 'm', correlationId: 'c' };
    const sent = replies.map((reply) =>
      outboundMessage({
        ...base,
        reply,
        ...(reply.attachment
          ? { attachment: { ...reply.attachment, id: 'a', url: 'http://127.0.0.1/downloads/a' } }
          : {}),
      }),
    );
    const contentTypes = new Set(sent.flatMap((m) => (m.content ?? []).map((c) => c.contentType)));
    expect([...contentTypes].sort()).toEqual(['Attachment', 'Card', 'Carousel', 'QuickReply']);
    for (const message of sent) expect(typeof message.text, JSON.stringify(message)).toBe('string');
  });

  it('has a greeting with every feature of the menu and a fallback', () => {
    expect(DEFAULT_SCRIPT.greeting?.[0]?.quickReplies).toHaveLength(5);
    expect(DEFAULT_SCRIPT.fallback?.every(hasContent)).toBe(true);
  });
});
