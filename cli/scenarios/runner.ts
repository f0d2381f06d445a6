/**
 * Runs scenarios against a stack. Every wait is on the transcript (by sequenceId) or on an event, never a
 * fixed delay: a reply is looked for after the last reply a step consumed, so reordered or late pushes
 * change nothing (the stack orders them before they get a sequenceId). `expectNoReplyWithin` is the one
 * step that waits a duration, by definition.
 */
import { randomUUID } from 'node:crypto';
import { entryText, guestStatus } from '../entry-text.js';
import { Conversation, type Entry, StepFailure } from './conversation.js';
import type { AiSettings } from './generative-file.js';
import { converse, type GenerativeOutcome } from './generative-run.js';
import type { ChatModel } from './models/model.js';
import type { ParticipantData } from './participant-data.js';
import type { PlacedStep, Scenario } from './scenario.js';

export interface Target {
  readonly url: string;
  readonly token: string;
  /** Reads participant data for `expectParticipantData`; absent: that step fails, saying how to configure it. */
  readonly participantData?: ParticipantData;
  /** The model for a generative scenario's `config.ai` (providers.ts); absent: generative scenarios fail. */
  readonly model?: (ai: AiSettings) => ChatModel;
  /** Chooses generative scenarios' placeholders (and is the model's seed unless the file sets one). */
  readonly seed?: number;
}

export interface StepResult {
  readonly line: number;
  readonly source: string;
  readonly durationMs: number;
}

export interface ScenarioFailure {
  readonly line: number;
  readonly step: string;
  readonly message: string;
  /** The transcript around the failing step, one line per entry. */
  readonly transcript: readonly string[];
}

export interface ScenarioResult {
  readonly file: string;
  readonly name: string;
  readonly passed: boolean;
  readonly durationMs: number;
  readonly sessionId?: string;
  readonly steps: readonly StepResult[];
  readonly failure?: ScenarioFailure;
  /** A generative scenario's verdict, why, the whole conversation and the tokens it used. */
  readonly generative?: GenerativeOutcome;
}

/** Inline uploads up to this size go through the WebSocket; larger ones through the presigned URL. */
const INLINE_UPLOAD_BYTES = 16 * 1024;
const TRANSCRIPT_CONTEXT = 8;

function describe(entry: Entry): string {
  const who = entry.direction === 'guest' ? 'guest' : (entry.sender?.nickname ?? entry.direction);
  const status = guestStatus(entry);
  return `#${entry.sequenceId} ${who}: ${entryText(entry)}${status ? ` (${status})` : ''}`;
}

function textOf(entry: Entry): string {
  return entry.text ?? '';
}

function quickRepliesOf(entry: Entry): { text: string; payload: string }[] {
  return entry.content.flatMap((item) =>
    item.kind === 'quickReply' ? [{ text: item.text, payload: item.payload }] : [],
  );
}

function offered(conversation: Conversation): string[] {
  const latest = latestQuickReplies(conversation);
  return latest === undefined ? [] : quickRepliesOf(latest).map((r) => r.text);
}

/** The newest agent/bot entry up to now that offers quick replies, at or after the last consumed one. */
function latestQuickReplies(conversation: Conversation): Entry | undefined {
  return conversation
    .ordered()
    .filter((entry) => entry.direction !== 'guest' && quickRepliesOf(entry).length > 0)
    .at(-1);
}

export async function sendGuest(
  conversation: Conversation,
  frame: Record<string, unknown>,
  ms: number,
  what: string,
): Promise<void> {
  const clientMessageId = randomUUID();
  const before = conversation.errors.length;
  conversation.send({ ...frame, clientMessageId });
  const entry = await conversation.until(
    () => {
      const refused = conversation.errors.slice(before).find((e) => e.clientMessageId === clientMessageId);
      if (refused)
        throw new StepFailure(
          `${what}: refused with ${refused.code}: ${refused.message}`,
          `error:${refused.code}`,
        );
      return conversation
        .ordered()
        .find((e) => e.clientMessageId === clientMessageId && e.status !== 'pending');
    },
    ms,
    `${what}: no acknowledgement from Genesys`,
  );
  if (entry.status === 'failed') {
    throw new StepFailure(
      `${what}: Genesys refused it (${entry.failure?.code ?? 'unknown'}: ${entry.failure?.message ?? ''})`,
      `genesys:${entry.failure?.code ?? 'unknown'}`,
    );
  }
}

export async function runStep(
  conversation: Conversation,
  placed: PlacedStep,
  ms: number,
  target: Target,
): Promise<void> {
  const { step } = placed;
  switch (step.kind) {
    case 'say':
      await sendGuest(conversation, { action: 'send', text: step.text }, ms, `say "${step.text}"`);
      return;
    case 'waitForReplyContaining':
    case 'waitForReplyMatching': {
      const matches =
        step.kind === 'waitForReplyContaining'
          ? // Without case, as the existing testers compare (caseInsensitive defaults to true there).
            (entry: Entry) => textOf(entry).toLowerCase().includes(step.text.toLowerCase())
          : (entry: Entry) => {
              step.regex.lastIndex = 0;
              return step.regex.test(textOf(entry));
            };
      const wanted =
        step.kind === 'waitForReplyContaining'
          ? `reply containing "${step.text}"`
          : `reply matching ${step.regex}`;
      const found = await conversation.until(
        () => conversation.repliesAfter(conversation.cursor).find(matches),
        ms,
        `no ${wanted}`,
      );
      conversation.cursor = found.sequenceId;
      return;
    }
    case 'expectQuickReplies': {
      const entry = await conversation.until(
        () => {
          const latest = latestQuickReplies(conversation);
          return latest && latest.sequenceId >= conversation.cursor ? latest : undefined;
        },
        ms,
        `no reply offering quick replies [${step.labels.join(', ')}]`,
      );
      const labels = quickRepliesOf(entry).map((r) => r.text);
      if (JSON.stringify(labels) !== JSON.stringify(step.labels)) {
        throw new StepFailure(
          `expected quick replies [${step.labels.join(', ')}], #${entry.sequenceId} offers [${labels.join(', ')}]`,
          'unexpected_reply',
        );
      }
      conversation.cursor = Math.max(conversation.cursor, entry.sequenceId);
      return;
    }
    case 'chooseQuickReply': {
      const entry = await conversation.until(
        () => {
          const latest = latestQuickReplies(conversation);
          return latest && quickRepliesOf(latest).some((r) => r.text === step.label) ? latest : undefined;
        },
        ms,
        () =>
          `no reply offering the quick reply "${step.label}" (offered last: [${offered(conversation).join(', ')}])`,
      );
      const reply = quickRepliesOf(entry).find((r) => r.text === step.label) as {
        text: string;
        payload: string;
      };
      conversation.cursor = Math.max(conversation.cursor, entry.sequenceId);
      await sendGuest(
        conversation,
        {
          action: 'send',
          reply: {
            type: 'quickReply',
            text: reply.text,
            payload: reply.payload,
            toSequenceId: entry.sequenceId,
          },
        },
        ms,
        `chooseQuickReply "${step.label}"`,
      );
      return;
    }
    case 'expectTyping': {
      const since = conversation.cursor;
      // A typing notice that came after the last consumed reply (it may precede the reply it announces).
      await conversation.until(
        () => conversation.typing.find((t) => t.after >= since),
        ms,
        'no typing indicator from the agent or bot',
      );
      return;
    }
    case 'setContext': {
      const applied = conversation.contextApplied;
      const before = conversation.errors.length;
      conversation.send({ action: 'context', data: step.data, flush: true });
      await conversation.until(
        () => {
          const refused = conversation.errors.slice(before).find((e) => e.action === 'context');
          if (refused)
            throw new StepFailure(
              `setContext: refused with ${refused.code}: ${refused.message}`,
              `error:${refused.code}`,
            );
          return conversation.contextApplied > applied ? true : undefined;
        },
        ms,
        'setContext: Genesys did not confirm the custom attributes',
      );
      return;
    }
    case 'upload': {
      const uploadId = randomUUID();
      const inline = step.bytes.length <= INLINE_UPLOAD_BYTES;
      const before = conversation.errors.length;
      const refused = (): undefined => {
        const error = conversation.errors.slice(before).find((e) => e.action === 'upload');
        if (error)
          throw new StepFailure(
            `upload ${step.filename}: refused with ${error.code}: ${error.message}`,
            `error:${error.code}`,
          );
        return failedUpload(conversation, uploadId);
      };
      conversation.send({
        action: 'upload',
        uploadId,
        filename: step.filename,
        contentType: step.contentType,
        ...(inline ? { data: step.bytes.toString('base64') } : { size: step.bytes.length, send: true }),
      });
      if (!inline) {
        const slot = await conversation.until(
          () => conversation.uploads.get(`upload:${uploadId}`) ?? refused(),
          ms,
          `upload ${step.filename}: no upload slot`,
        );
        if (slot.type === 'upload') {
          const put = await fetch(slot.url, {
            method: 'PUT',
            headers: slot.headers,
            body: new Uint8Array(step.bytes),
          });
          if (!put.ok)
            throw new StepFailure(`upload ${step.filename}: the presigned PUT answered ${put.status}`);
        }
      }
      await conversation.until(
        () => conversation.uploads.get(`uploaded:${uploadId}`) ?? refused(),
        ms,
        `upload ${step.filename}: Genesys did not accept the file`,
      );
      await conversation.until(
        () => {
          const sent = conversation
            .ordered()
            .find(
              (e) =>
                e.direction === 'guest' &&
                e.content.some((c) => c.kind === 'attachment' && c.filename === step.filename),
            );
          if (sent?.status === 'failed')
            throw new StepFailure(`upload ${step.filename}: the message failed (${sent.failure?.code})`);
          return sent && sent.status !== 'pending' ? sent : undefined;
        },
        ms,
        `upload ${step.filename}: the message with the attachment was not sent`,
      );
      return;
    }
    case 'expectParticipantData': {
      const source = target.participantData;
      if (source === undefined) {
        throw new StepFailure(
          'expectParticipantData needs Genesys Platform API access: pass --genesys-client-id and --genesys-client-secret (with --genesys-region), or run against local mode',
        );
      }
      const message = (await conversation.newestEntries())
        .filter((e) => e.direction === 'guest' && e.genesysId)
        .at(-1);
      if (message?.genesysId === undefined) {
        throw new StepFailure(
          'expectParticipantData: the guest has sent no message yet, so there is no conversation to read',
        );
      }
      const genesysId = message.genesysId;
      let last: Record<string, string> = {};
      const mismatch = (attributes: Record<string, string>) =>
        Object.entries(step.attributes).filter(([key, value]) => attributes[key] !== value);
      // Participant data is written asynchronously upstream: poll the Platform API until it matches.
      const deadline = Date.now() + ms;
      for (;;) {
        last = await source.forMessage(genesysId);
        if (mismatch(last).length === 0) return;
        if (Date.now() > deadline) {
          throw new StepFailure(
            `participant data differs: ${mismatch(last)
              .map(
                ([key, value]) =>
                  `${key} is ${last[key] === undefined ? 'missing' : JSON.stringify(last[key])}, expected ${JSON.stringify(value)}`,
              )
              .join('; ')}`,
          );
        }
        await conversation.hold(250);
      }
    }
    case 'disconnect':
      conversation.disconnect();
      return;
    case 'reconnect':
      await conversation.reconnect();
      return;
    case 'expectNoReplyWithin': {
      const since = conversation.cursor;
      await conversation.hold(step.ms, () => {
        const reply = conversation.repliesAfter(since)[0];
        if (reply)
          throw new StepFailure(
            `expected no reply within ${step.ms / 1000} s, got ${describe(reply)}`,
            'unexpected_reply',
          );
      });
      return;
    }
  }
}

function failedUpload(conversation: Conversation, uploadId: string): never | undefined {
  const failed = conversation.uploads.get(`uploadFailed:${uploadId}`);
  if (failed?.type === 'uploadFailed')
    throw new StepFailure(`upload refused: ${failed.code}: ${failed.message}`, `error:${failed.code}`);
  return undefined;
}

function excerpt(conversation: Conversation): string[] {
  const entries = conversation.ordered();
  const around = entries.findIndex((e) => e.sequenceId > conversation.cursor);
  const end = around < 0 ? entries.length : Math.min(entries.length, around + TRANSCRIPT_CONTEXT);
  return entries.slice(Math.max(0, end - 2 * TRANSCRIPT_CONTEXT), end).map(describe);
}

/** Runs one scenario; `onUpstream` hears how the stack's link to Genesys is doing, one line per change. */
export async function runScenario(
  scenario: Scenario,
  target: Target,
  onUpstream?: (line: string) => void,
): Promise<ScenarioResult> {
  const started = Date.now();
  const conversation = new Conversation(target.url, target.token, onUpstream);
  const steps: StepResult[] = [];
  let failure: ScenarioFailure | undefined;
  let current: PlacedStep | undefined;
  let generative: GenerativeOutcome | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(
      () =>
        reject(new StepFailure(`the scenario took longer than ${scenario.timeoutMs / 1000} s`, 'timeout')),
      scenario.timeoutMs,
    );
    timer.unref();
  });
  try {
    await Promise.race([
      (async () => {
        await conversation.start({
          ...(scenario.deploymentId === undefined ? {} : { deploymentId: scenario.deploymentId }),
          ...(scenario.region === undefined ? {} : { region: scenario.region }),
          ...(scenario.guestInfo === undefined ? {} : { guestInfo: scenario.guestInfo }),
        });
        if (scenario.generative !== undefined) {
          // Its own deadline a little before the scenario's, so that the outcome keeps the conversation.
          generative = await runGenerative(
            scenario,
            conversation,
            target,
            started + scenario.timeoutMs - 500,
          );
          if (generative.verdict === 'fail') throw new StepFailure(generative.why);
        }
        for (const placed of scenario.steps) {
          current = placed;
          const stepStarted = Date.now();
          await runStep(conversation, placed, placed.timeoutMs ?? scenario.stepTimeoutMs, target);
          steps.push({ line: placed.line, source: placed.source, durationMs: Date.now() - stepStarted });
        }
      })(),
      timeout,
    ]);
  } catch (error) {
    failure = {
      line: current?.line ?? scenario.line,
      step: current?.source ?? (scenario.generative === undefined ? 'connect' : 'generative conversation'),
      message: error instanceof Error ? error.message : String(error),
      transcript: generative === undefined ? excerpt(conversation) : [],
    };
  } finally {
    conversation.close();
  }
  return {
    file: scenario.file,
    name: scenario.name,
    passed: failure === undefined,
    durationMs: Date.now() - started,
    steps,
    ...(conversation.sessionId === undefined ? {} : { sessionId: conversation.sessionId }),
    ...(failure === undefined ? {} : { failure }),
    ...(generative === undefined ? {} : { generative }),
  };
}

async function runGenerative(
  scenario: Scenario,
  conversation: Conversation,
  target: Target,
  deadline: number,
): Promise<GenerativeOutcome> {
  const setup = scenario.generative;
  if (setup === undefined || target.model === undefined || target.seed === undefined) {
    throw new StepFailure('this scenario is generative, and no model was configured for the run');
  }
  const ms = scenario.stepTimeoutMs;
  return converse(conversation, {
    setup,
    model: target.model(setup.ai),
    seed: target.seed,
    file: scenario.file,
    name: scenario.name,
    turnTimeoutMs: ms,
    deadline,
    say: (text, within) => sendGuest(conversation, { action: 'send', text }, within, "the model's message"),
  });
}

/**
 * Runs scenarios with at most `parallel` at once, in the given order; `onDone` after each, `onUpstream`
 * when a scenario's link to Genesys changes (retrying, or back after trouble).
 */
export async function runAll(
  scenarios: readonly Scenario[],
  target: Target,
  parallel: number,
  onDone: (result: ScenarioResult, running: number) => void = () => {},
  onUpstream: (scenario: Scenario, line: string) => void = () => {},
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  let running = 0;
  const worker = async (): Promise<void> => {
    while (next < scenarios.length) {
      const index = next++;
      running++;
      const scenario = scenarios[index] as Scenario;
      const result = await runScenario(scenario, target, (line) => onUpstream(scenario, line));
      running--;
      results[index] = result;
      onDone(result, running);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, scenarios.length)) }, worker));
  return results;
}
