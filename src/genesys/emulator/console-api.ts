/**
 * `/emulator/*` over HTTP: the agent console (sessions, transcripts, agent messages, typing, receipts,
 * disconnects) and the fault API. Bodies are validated with zod; a bad one gets 400 with every problem.
 */
import * as z from 'zod';
import type { AgentConsole } from './agent-console.js';
import type { EmulatorCore } from './core.js';
import { isDropCode } from './faults.js';
import { parseWith, type Router, readJson, sendJson } from './http.js';
import { hasContent, replySchema } from './scripts.js';
import { snapshotOf } from './sessions.js';

const count = z.int().min(0).max(1_000_000);
const ms = z
  .int()
  .min(0)
  .max(24 * 3600 * 1000);

const closeCode = z.int().refine(isDropCode, {
  message: 'a WebSocket close code: 1000–1003, 1006 (cut the connection), 1007–1014, or 3000–4999',
});

const schemas = {
  typing: z.strictObject({ durationMs: ms.exactOptional() }),
  receipt: z.strictObject({ messageId: z.string().min(1), status: z.enum(['Delivered', 'Read']) }),
  disconnect: z.strictObject({ readOnly: z.boolean().exactOptional() }),
  drop: z.strictObject({ token: z.string().min(1).exactOptional(), code: closeCode.exactOptional() }),
  refuse: z.strictObject({ ms }),
  delay: z.strictObject({ ms }),
  reorder: z.strictObject({ count }),
  duplicate: z.strictObject({ count }),
  force429: z.strictObject({ count, retryAfterSeconds: z.int().min(0).max(3600).exactOptional() }),
  reject: z.strictObject({ count, code: z.int().min(400).max(5999) }),
  expire: z.strictObject({ token: z.string().min(1) }),
  reset: z.strictObject({}),
};

export function registerConsoleRoutes(router: Router, core: EmulatorCore, agent: AgentConsole): void {
  const { faults } = core;
  const ok = { ok: true } as const;

  router.on('GET', '/emulator', ({ res }) => {
    sendJson(res, 200, {
      deploymentId: core.options.deploymentId,
      wsUrl: core.urls.wsUrl,
      httpUrl: core.urls.httpUrl,
      script: core.options.script?.name ?? null,
      limits: core.options.limits,
      conversationDisconnect: core.options.conversationDisconnect,
      bot: { ...core.options.bot, responseTime: core.options.bot.responseTime ?? null, ...core.bot.stats() },
    });
  });

  router.on('GET', '/emulator/sessions', ({ res }) => sendJson(res, 200, { sessions: core.snapshots() }));

  router.on('GET', '/emulator/sessions/:token', ({ res, params }) => {
    sendJson(res, 200, snapshotOf(core.requireSession(params.token ?? '')));
  });

  router.on('GET', '/emulator/sessions/:token/transcript', ({ res, params }) => {
    const token = params.token ?? '';
    const messages = core.transcript(token);
    sendJson(res, 200, {
      token,
      conversationId: core.sessions.get(token)?.conversation?.id ?? null,
      messages,
    });
  });

  router.on('POST', '/emulator/sessions/:token/messages', async ({ req, res, params }) => {
    const token = params.token ?? '';
    const reply = parseWith(replySchema, await readJson(req));
    // With typing or a delay the reply is played like a script's: accepted now, delivered later.
    if ((reply.typingMs ?? 0) > 0 || (reply.delayMs ?? 0) > 0 || (!hasContent(reply) && !reply.disconnect)) {
      core.assertAgentCanSpeak(core.requireSession(token));
      agent.play(token, [reply]);
      sendJson(res, 202, { queued: true });
      return;
    }
    sendJson(res, 201, { message: agent.say(token, reply) });
  });

  router.on('POST', '/emulator/sessions/:token/typing', async ({ req, res, params }) => {
    const body = parseWith(schemas.typing, await readJson(req));
    agent.typing(params.token ?? '', body.durationMs);
    sendJson(res, 200, ok);
  });

  router.on('POST', '/emulator/sessions/:token/receipts', async ({ req, res, params }) => {
    const body = parseWith(schemas.receipt, await readJson(req));
    agent.receipt(params.token ?? '', body.messageId, body.status);
    sendJson(res, 200, ok);
  });

  router.on('POST', '/emulator/sessions/:token/disconnect', async ({ req, res, params }) => {
    const body = parseWith(schemas.disconnect, await readJson(req));
    agent.disconnect(params.token ?? '', body);
    sendJson(res, 200, ok);
  });

  router.on('GET', '/emulator/faults', ({ res }) => sendJson(res, 200, faults.state()));

  router.on('POST', '/emulator/faults/drop', async ({ req, res }) => {
    const body = parseWith(schemas.drop, await readJson(req));
    sendJson(res, 200, { dropped: faults.dropSockets(body.token, body.code) });
  });

  router.on('POST', '/emulator/faults/refuse', async ({ req, res }) => {
    faults.refuseConnects(parseWith(schemas.refuse, await readJson(req)).ms);
    sendJson(res, 200, faults.state());
  });

  router.on('POST', '/emulator/faults/delay', async ({ req, res }) => {
    faults.delayPushes(parseWith(schemas.delay, await readJson(req)).ms);
    sendJson(res, 200, faults.state());
  });

  router.on('POST', '/emulator/faults/reorder', async ({ req, res }) => {
    faults.reorderPushes(parseWith(schemas.reorder, await readJson(req)).count);
    sendJson(res, 200, faults.state());
  });

  router.on('POST', '/emulator/faults/duplicate', async ({ req, res }) => {
    faults.duplicatePushes(parseWith(schemas.duplicate, await readJson(req)).count);
    sendJson(res, 200, faults.state());
  });

  router.on('POST', '/emulator/faults/429', async ({ req, res }) => {
    const body = parseWith(schemas.force429, await readJson(req));
    faults.force429(body.count, body.retryAfterSeconds);
    sendJson(res, 200, faults.state());
  });

  router.on('POST', '/emulator/faults/reject', async ({ req, res }) => {
    const body = parseWith(schemas.reject, await readJson(req));
    faults.rejectMessages(body.count, body.code);
    sendJson(res, 200, faults.state());
  });

  router.on('POST', '/emulator/faults/expire', async ({ req, res }) => {
    faults.expireSession(parseWith(schemas.expire, await readJson(req)).token);
    sendJson(res, 200, ok);
  });

  router.on('POST', '/emulator/faults/reset', async ({ req, res }) => {
    parseWith(schemas.reset, await readJson(req));
    faults.reset();
    sendJson(res, 200, faults.state());
  });
}
