/**
 * Runs a generative scenario: the model writes the guest's messages, the bot (through the stack) answers,
 * until the model says a pass or fail phrase, the bot ends the conversation, or a limit is reached.
 * Every wait is bounded: the model's answer and the bot's first reply by the turn timeout, the whole
 * scenario by its timeout, the number of the model's messages by `maxTurns`.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../src/domain/seeded-random.js';
import { entryText } from '../entry-text.js';
import { type Conversation, StepFailure } from './conversation.js';
import type { GenerativeSetup } from './generative-file.js';
import { type ChatModel, type ChatTurn, ModelError } from './models/model.js';

export type Verdict = 'pass' | 'fail';

/** Why the conversation stopped. */
export type EndReason =
  /** The model said one of the scenario's pass or fail phrases. */
  | 'phrase'
  /** `maxTurns` messages and no phrase. */
  | 'turn_limit'
  /** The bot or agent ended the conversation, and the model then said no phrase. */
  | 'bot_ended'
  /** The bot did not answer within the turn timeout. */
  | 'no_reply'
  /** The scenario's time (`timeoutSeconds`) ran out. */
  | 'time_limit'
  /** The model could not be asked (rate limited, timed out, refused the key, answered nonsense). */
  | 'model_error'
  /** The stack refused a message or the session ended with an error. */
  | 'relay_error';

export interface GenerativeOutcome {
  readonly verdict: Verdict;
  readonly reason: EndReason;
  /** In words: the phrase and who said it, the limit, the error. */
  readonly why: string;
  readonly phrase?: string;
  /** The placeholder values this run chose, and the seed that chose them. */
  readonly placeholders: Readonly<Record<string, string>>;
  readonly seed: number;
  readonly model: string;
  /** The guest's (model's) messages sent. */
  readonly turns: number;
  readonly tokens: { readonly prompt: number; readonly completion: number; readonly total: number };
  /** The whole conversation, in order. */
  readonly transcript: readonly ChatTurn[];
}

/** What the model is told when the bot ends the conversation, for its last word. */
export const BOT_ENDED = '(The chatbot ended the conversation.)';

/**
 * A random in [0, 1) from the run's seed and the scenario (its file and name), so a scenario chooses the
 * same placeholders with the same seed whatever runs beside it or in which order.
 */
export function seededRandom(seed: number, ...scope: readonly string[]): () => number {
  const digest = createHash('sha256')
    .update(JSON.stringify([seed, ...scope]))
    .digest();
  return mulberry32(digest.readUInt32LE(0));
}

/** One value per placeholder, chosen with `random`; names in sorted order so files can be reordered. */
export function choosePlaceholders(
  placeholders: Readonly<Record<string, readonly string[]>>,
  random: () => number,
): Record<string, string> {
  const chosen: Record<string, string> = {};
  for (const name of Object.keys(placeholders).sort()) {
    const values = placeholders[name] ?? [];
    chosen[name] = values[Math.floor(random() * values.length)] ?? '';
  }
  return chosen;
}

/** `{NAME}` replaced by its chosen value everywhere; a `{WORD}` that is not a placeholder stays as written. */
export function fillPlaceholders(prompt: string, chosen: Readonly<Record<string, string>>): string {
  return prompt.replace(/\{([^{}\s]+)\}/g, (whole, name: string) =>
    Object.hasOwn(chosen, name) ? (chosen[name] as string) : whole,
  );
}

/** The first fail phrase, else the first pass phrase, that the text contains (as written, case and all). */
export function findPhrase(
  text: string,
  phrases: { readonly pass: readonly string[]; readonly fail: readonly string[] },
): { verdict: Verdict; phrase: string } | undefined {
  const fail = phrases.fail.find((phrase) => text.includes(phrase));
  if (fail !== undefined) return { verdict: 'fail', phrase: fail };
  const pass = phrases.pass.find((phrase) => text.includes(phrase));
  return pass === undefined ? undefined : { verdict: 'pass', phrase: pass };
}

export interface GenerativeRun {
  readonly setup: GenerativeSetup;
  readonly model: ChatModel;
  readonly seed: number;
  readonly file: string;
  readonly name: string;
  /** The model's answer and the bot's first reply must each come within this. */
  readonly turnTimeoutMs: number;
  /** When the scenario's time is up (epoch ms): no wait goes past it. */
  readonly deadline: number;
  /** Sends one guest text and resolves once Genesys has it, within `ms` (refusals throw StepFailure). */
  readonly say: (text: string, ms: number) => Promise<void>;
}

/**
 * Holds the conversation. Never throws: every ending is an outcome with its reason. `conversation` must
 * already be started.
 */
export async function converse(conversation: Conversation, run: GenerativeRun): Promise<GenerativeOutcome> {
  const { setup, model } = run;
  const placeholders = choosePlaceholders(setup.placeholders, seededRandom(run.seed, run.file, run.name));
  const prompt = fillPlaceholders(setup.prompt, placeholders);
  const transcript: ChatTurn[] = [];
  const tokens = { prompt: 0, completion: 0 };
  let turns = 0;
  const outcome = (verdict: Verdict, reason: EndReason, why: string, phrase?: string): GenerativeOutcome => ({
    verdict,
    reason,
    why,
    ...(phrase === undefined ? {} : { phrase }),
    placeholders,
    seed: run.seed,
    model: model.description,
    turns,
    tokens: { ...tokens, total: tokens.prompt + tokens.completion },
    transcript: [...transcript],
  });

  /** How long the next wait may be: the turn timeout, cut to what is left of the scenario's time. */
  const within = (): number => Math.min(run.turnTimeoutMs, run.deadline - Date.now());
  const outOfTime = (): GenerativeOutcome =>
    outcome(
      'fail',
      'time_limit',
      "the scenario's time ran out (timeoutSeconds) before a pass or fail phrase",
    );

  /** The model's next message, or the outcome that ends the run. */
  const ask = async (): Promise<string | GenerativeOutcome> => {
    if (within() <= 0) return outOfTime();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), within());
    try {
      const reply = await model.reply(prompt, transcript, {
        maxTokens: setup.maxTokens,
        signal: controller.signal,
      });
      tokens.prompt += reply.usage.prompt;
      tokens.completion += reply.usage.completion;
      transcript.push({ role: 'guest', text: reply.text });
      return reply.text;
    } catch (error) {
      const message =
        error instanceof ModelError
          ? `${error.code}: ${error.message}`
          : `unexpected: ${(error as Error).message}`;
      if (run.deadline <= Date.now()) return outOfTime();
      return outcome('fail', 'model_error', `the model failed (${model.description}): ${message}`);
    } finally {
      clearTimeout(timer);
    }
  };

  const judged = (text: string): GenerativeOutcome | undefined => {
    const found = findPhrase(text, setup);
    return found === undefined
      ? undefined
      : outcome(
          found.verdict,
          'phrase',
          `the model said the ${found.verdict} phrase "${found.phrase}"`,
          found.phrase,
        );
  };

  for (;;) {
    if (turns >= setup.maxTurns) {
      return outcome(
        'fail',
        'turn_limit',
        `no pass or fail phrase after ${setup.maxTurns} messages (maxTurns)`,
      );
    }
    const said = await ask();
    if (typeof said !== 'string') return said;
    const verdict = judged(said);
    if (verdict !== undefined) return verdict;
    turns += 1;
    const since = conversation.lastSeq;
    try {
      await run.say(said, within());
      if (within() <= 0) return outOfTime();
      const replies = await botReplies(conversation, since, within(), setup.replyQuietMs, run.deadline);
      if (replies.text.length > 0) transcript.push({ role: 'bot', text: replies.text });
      if (replies.ended) {
        transcript.push({ role: 'bot', text: BOT_ENDED });
        const last = await ask();
        if (typeof last !== 'string') return last;
        return (
          judged(last) ??
          outcome('fail', 'bot_ended', 'the bot ended the conversation before a pass or fail phrase')
        );
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (run.deadline <= Date.now()) return outOfTime();
      return outcome('fail', error instanceof NoReply ? 'no_reply' : 'relay_error', message);
    }
  }
}

/** The bot's first reply did not come in time (any other failure of the wait is the relay's). */
class NoReply extends StepFailure {}

/**
 * The bot's replies after `since`: waits up to `ms` for the first, then until none has come for
 * `quietMs` (a bot often answers in several messages). `ended` when the bot or agent closed the
 * conversation, or the session ended.
 */
async function botReplies(
  conversation: Conversation,
  since: number,
  ms: number,
  quietMs: number,
  deadline: number,
): Promise<{ text: string; ended: boolean }> {
  const closed = (): boolean => conversation.ended !== undefined || conversation.closedBy !== undefined;
  await conversation
    .until(
      () => (conversation.repliesAfter(since).length > 0 || closed() ? true : undefined),
      ms,
      'the bot did not answer',
    )
    .catch((error: unknown) => {
      // The wait ends early only with the conversation's own failure; otherwise its time ran out.
      throw error === conversation.fatal ? error : new NoReply((error as Error).message);
    });
  const count = (): number => conversation.repliesAfter(since).length;
  while (!closed() && deadline - Date.now() > 0) {
    const before = count();
    let more = false;
    await conversation
      .hold(Math.min(quietMs, deadline - Date.now()), () => {
        if (count() !== before || closed()) throw new MoreCame();
      })
      .catch((error: unknown) => {
        if (!(error instanceof MoreCame)) throw error;
        more = true;
      });
    if (!more) break;
  }
  conversation.cursor = Math.max(conversation.cursor, conversation.lastSeq);
  const text = conversation
    .repliesAfter(since)
    .map((entry) => entryText(entry))
    .filter((line) => line.length > 0)
    .join('\n');
  return { text, ended: closed() };
}

/** Ends a quiet wait early: another reply came. */
class MoreCame extends StepFailure {
  constructor() {
    super('another reply came');
  }
}
