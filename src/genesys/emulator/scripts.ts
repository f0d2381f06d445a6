/**
 * Bot scripts: data that says what the emulated bot or agent answers. A script is a greeting (played on a
 * conversation's first guest message or Presence Join), rules matched against the guest's text or button
 * payload, and a fallback. Each answer is a list of Replies, played in order with typing and delays.
 *
 * Pure: validation and matching only; playing replies is script-player.ts.
 */
import * as z from 'zod';

export type CardAction =
  | { readonly type: 'Link'; readonly text: string; readonly url: string }
  | { readonly type: 'Postback'; readonly text: string; readonly payload: string };

export interface Card {
  readonly title: string;
  readonly description?: string;
  readonly image?: string;
  readonly actions?: readonly CardAction[];
}

/** One thing the bot or agent does. Also what the agent console sends. */
export interface Reply {
  /** Who speaks: 'bot' (originatingEntity Bot, the default in scripts) or 'agent' (Human, with channel.from). */
  readonly from?: 'bot' | 'agent';
  /** The speaker's display name (channel.from.nickname). Default: "Alex" for agents; bots have none. */
  readonly nickname?: string;
  readonly text?: string;
  readonly quickReplies?: readonly { readonly text: string; readonly payload: string }[];
  readonly card?: Card;
  readonly carousel?: { readonly cards: readonly Card[] };
  readonly attachment?: {
    readonly filename: string;
    readonly mime: string;
    readonly mediaType: 'Image' | 'Video' | 'Audio' | 'File' | 'Link';
    /** Without a url the emulator serves a small sample file of that type itself. */
    readonly url?: string;
  };
  /** Show typing (Outbound Typing event with this duration) and wait this long before the message. */
  readonly typingMs?: number;
  /** Wait this long first (before typing). */
  readonly delayMs?: number;
  /** After the message (if any), end the conversation; readOnly defaults to the deployment's mode. */
  readonly disconnect?: { readonly readOnly?: boolean };
}

export interface RuleMatch {
  /** Case-insensitive substring of the guest's text. */
  readonly contains?: string;
  /** JavaScript regular expression tested on the guest's text; `flags` default to 'i'. */
  readonly regex?: string;
  readonly flags?: string;
  /** The whole text, trimmed, case-insensitive. */
  readonly equals?: string;
  /** The exact payload of a quick reply or card button the guest pressed. */
  readonly payload?: string;
}

export interface BotRule {
  /** Every condition given must hold. */
  readonly match: RuleMatch;
  readonly replies: readonly Reply[];
}

export interface BotScript {
  readonly name: string;
  readonly greeting?: readonly Reply[];
  readonly rules: readonly BotRule[];
  readonly fallback?: readonly Reply[];
}

const MAX_WAIT_MS = 600_000;
const waitSchema = z.int().min(0).max(MAX_WAIT_MS).exactOptional();
const nonEmpty = z.string().trim().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });

const cardActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('Link'), text: nonEmpty, url: httpUrl }),
  z.strictObject({ type: z.literal('Postback'), text: nonEmpty, payload: nonEmpty }),
]);

const cardSchema = z.strictObject({
  title: nonEmpty,
  description: z.string().exactOptional(),
  image: httpUrl.exactOptional(),
  actions: z.array(cardActionSchema).max(10).exactOptional(),
});

const CONTENT_KEYS = ['text', 'quickReplies', 'card', 'carousel', 'attachment'] as const;

export const replySchema = z
  .strictObject({
    from: z.enum(['bot', 'agent']).exactOptional(),
    nickname: nonEmpty.exactOptional(),
    text: z.string().min(1).exactOptional(),
    quickReplies: z
      .array(z.strictObject({ text: nonEmpty, payload: nonEmpty }))
      .min(1)
      .max(11)
      .exactOptional(),
    card: cardSchema.exactOptional(),
    carousel: z.strictObject({ cards: z.array(cardSchema).min(1).max(10) }).exactOptional(),
    attachment: z
      .strictObject({
        filename: nonEmpty,
        mime: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'a MIME type such as image/png'),
        mediaType: z.enum(['Image', 'Video', 'Audio', 'File', 'Link']),
        url: httpUrl.exactOptional(),
      })
      .exactOptional(),
    typingMs: waitSchema,
    delayMs: waitSchema,
    disconnect: z.strictObject({ readOnly: z.boolean().exactOptional() }).exactOptional(),
  })
  .refine((reply) => Object.keys(reply).some((key) => key !== 'from' && key !== 'nickname'), {
    message:
      'a reply must do something: text, quickReplies, card, carousel, attachment, typingMs, delayMs or disconnect',
  });

function compiles(regex: string, flags: string | undefined): boolean {
  try {
    new RegExp(regex, flags ?? 'i');
    return true;
  } catch {
    return false;
  }
}

const matchSchema = z
  .strictObject({
    contains: nonEmpty.exactOptional(),
    regex: z.string().min(1).exactOptional(),
    flags: z
      .string()
      .regex(/^[dgimsuvy]*$/, 'regular expression flags (d, g, i, m, s, u, v, y)')
      .exactOptional(),
    equals: z.string().exactOptional(),
    payload: nonEmpty.exactOptional(),
  })
  .refine(
    (m) =>
      m.contains !== undefined || m.regex !== undefined || m.equals !== undefined || m.payload !== undefined,
    {
      message: 'a match needs at least one of contains, regex, equals or payload',
    },
  )
  .refine((m) => m.flags === undefined || m.regex !== undefined, {
    message: 'flags only apply to regex',
    path: ['flags'],
  })
  .refine((m) => m.regex === undefined || compiles(m.regex, m.flags), {
    message: 'not a valid regular expression',
    path: ['regex'],
  });

const repliesSchema = z.array(replySchema).min(1);

export const botScriptSchema = z.strictObject({
  name: nonEmpty,
  greeting: repliesSchema.exactOptional(),
  rules: z.array(z.strictObject({ match: matchSchema, replies: repliesSchema })),
  fallback: repliesSchema.exactOptional(),
});

// Compile-time: the schemas produce exactly the documented types.
type Assignable<T, U extends T> = U;
type _ReplyCheck = Assignable<Reply, z.output<typeof replySchema>>;
type _ScriptCheck = Assignable<BotScript, z.output<typeof botScriptSchema>>;

/** A script (or reply) that does not validate; `issues` are "path: problem" lines. */
export class ScriptValidationError extends Error {
  override readonly name = 'ScriptValidationError';
  readonly issues: readonly string[];

  constructor(what: string, issues: readonly string[]) {
    super(`Invalid ${what}:\n  ${issues.join('\n  ')}`);
    this.issues = issues;
  }
}

/** "rules[2].match.regex: not a valid regular expression" lines for a zod error. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((part, i) =>
        typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`,
      )
      .join('');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
}

/**
 * Validates a script (from code, JSON or YAML) and returns it typed and frozen.
 *
 * @throws ScriptValidationError listing every problem with its path.
 */
export function parseBotScript(value: unknown): BotScript {
  const result = botScriptSchema.safeParse(value);
  if (!result.success) {
    const name =
      typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string'
        ? ` "${value.name}"`
        : '';
    throw new ScriptValidationError(`bot script${name}`, describeIssues(result.error));
  }
  return deepFreeze(result.data);
}

/** Validates one Reply (the agent console's input). @throws ScriptValidationError */
export function parseReply(value: unknown): Reply {
  const result = replySchema.safeParse(value);
  if (!result.success) throw new ScriptValidationError('reply', describeIssues(result.error));
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Whether a reply puts a message on the wire (as opposed to only typing, waiting or disconnecting). */
export function hasContent(reply: Reply): boolean {
  return CONTENT_KEYS.some((key) => reply[key] !== undefined);
}

/** What the guest said, as far as rules are concerned. */
export interface GuestInput {
  /** The message text, or the pressed button's text; '' for none. */
  readonly text: string;
  /** The pressed quick reply or card button's payload, if any. */
  readonly payload?: string | undefined;
}

export function ruleMatches(match: RuleMatch, input: GuestInput): boolean {
  const text = input.text;
  if (match.payload !== undefined && input.payload !== match.payload) return false;
  if (match.equals !== undefined && text.trim().toLowerCase() !== match.equals.trim().toLowerCase())
    return false;
  if (match.contains !== undefined && !text.toLowerCase().includes(match.contains.toLowerCase()))
    return false;
  if (match.regex !== undefined && !new RegExp(match.regex, match.flags ?? 'i').test(text)) return false;
  return true;
}

/** The first rule that matches, or undefined. */
export function findRule(script: BotScript, input: GuestInput): BotRule | undefined {
  return script.rules.find((rule) => ruleMatches(rule.match, input));
}

/**
 * What the bot answers to one guest message. On the conversation's first guest message the greeting
 * plays, followed by a matching rule's replies if any (the fallback is not added to a greeting); later,
 * the first matching rule's replies, else the fallback.
 */
export function repliesFor(script: BotScript, input: GuestInput, firstMessage: boolean): readonly Reply[] {
  const rule = findRule(script, input);
  if (firstMessage && script.greeting) return [...script.greeting, ...(rule?.replies ?? [])];
  return rule?.replies ?? script.fallback ?? [];
}
