/**
 * The REST endpoints around the guest API: guest history (bearer = the guest JWT), the deployment config
 * (public), and the few Platform API calls the project makes with client credentials, in the shapes
 * `purecloud-platform-client-v2` expects (point it here with `setGateway`).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as z from 'zod';
import type { StructuredMessage } from '../responses.js';
import type { EmulatorCore } from './core.js';
import { HttpError, parseWith, type Router, readBody, readJson, sendJson } from './http.js';
import { newSecret, newUuid } from './ids.js';
import type { Conversation } from './sessions.js';

/** Lifetime of a client-credentials access token, as Genesys issues them (just under a day). */
export const ACCESS_TOKEN_SECONDS = 86_399;
const MAX_TOKEN_REQUEST_BYTES = 16 * 1024;

/** A Genesys Platform API error body: `{message, code, status, contextId, details, errors}`. */
function platformError(status: number, code: string, message: string): HttpError {
  return new HttpError(status, { message, code, status, contextId: newUuid(), details: [], errors: [] });
}

function oauthError(status: number, error: string, description: string): HttpError {
  return new HttpError(status, { error, description, error_description: description });
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `client_id`/`client_secret` from HTTP Basic (what the SDK sends) or from the form. */
function credentialsOf(
  req: IncomingMessage,
  form: URLSearchParams,
): { id: string; secret: string } | undefined {
  const basic = /^basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id !== null && secret !== null ? { id, secret } : undefined;
}

const attributesBody = z.strictObject({ attributes: z.record(z.string(), z.string()) });

const pageNumber = (value: string | null, fallback: number, max: number, name: string): number => {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw platformError(400, 'bad.request', `${name} must be an integer from 1 to ${max}.`);
  }
  return n;
};

/** The deployment config (reference §10.2), with the emulator's URLs and limits. */
export function deploymentConfig(core: EmulatorCore): Record<string, unknown> {
  const { options, urls } = core;
  return {
    id: options.deploymentId,
    version: '1',
    languages: ['en-us'],
    defaultLanguage: 'en-us',
    apiEndpoint: urls.httpUrl,
    messenger: {
      enabled: true,
      apps: {
        conversations: {
          messagingEndpoint: urls.wsUrl.replace(/\/v1$/, ''),
          showAgentTypingIndicator: true,
          showUserTypingIndicator: true,
          autoStart: { enabled: options.autoStart },
          conversationDisconnect: { enabled: true, type: options.conversationDisconnect },
          conversationClear: { enabled: options.conversationClear },
          markdown: { enabled: true },
          humanize: { enabled: true },
        },
      },
      styles: { primaryColor: '#FF4F1F' },
      launcherButton: { visibility: 'On' },
      fileUpload: {
        modes: [{ fileTypes: [...options.allowedFileTypes], maxFileSizeKB: options.limits.maxFileSizeKB }],
      },
    },
    journeyEvents: { enabled: false },
    status: 'Active',
    auth: { enabled: false, allowSessionUpgrade: false },
  };
}

function conversationJson(conversation: Conversation) {
  return {
    id: conversation.id,
    startTime: new Date(conversation.startedAt).toISOString(),
    participants: conversation.participants.map((participant) => ({
      id: participant.id,
      name: participant.name,
      purpose: participant.purpose,
      state: participant.state,
      attributes: { ...participant.attributes },
    })),
    selfUri: `/api/v2/conversations/messages/${conversation.id}`,
  };
}

function messageDataJson(conversation: Conversation, message: StructuredMessage) {
  const inbound = message.direction === 'Inbound';
  return {
    id: message.id,
    conversationId: conversation.id,
    timestamp: message.channel?.time ?? new Date(conversation.startedAt).toISOString(),
    direction: inbound ? 'inbound' : 'outbound',
    messengerType: 'webmessaging',
    status: inbound ? 'received' : 'sent',
    ...(message.text !== undefined ? { textBody: message.text } : {}),
    normalizedMessage: message,
    selfUri: `/api/v2/conversations/messages/${conversation.id}/messages/${message.id}`,
  };
}

export function registerPlatformRoutes(router: Router, core: EmulatorCore): void {
  const accessTokens = new Map<string, { readonly clientId: string; readonly expiresAt: number }>();
  const log = core.options.logger;

  const requirePlatformToken = (req: IncomingMessage): void => {
    const token = bearerOf(req);
    if (token === undefined) {
      throw platformError(
        401,
        'authentication.required',
        'No authentication bearer token specified in authorization header.',
      );
    }
    const entry = accessTokens.get(token);
    if (!entry || entry.expiresAt <= core.now)
      throw platformError(401, 'bad.credentials', 'Invalid login credentials.');
  };

  const conversationOf = (id: string): Conversation => {
    const conversation = core.conversations.get(id);
    if (!conversation) throw platformError(404, 'not.found', `Conversation ${id} not found.`);
    return conversation;
  };

  router.on('POST', '/login/oauth/token', async ({ req, res }) => {
    const { bytes, length } = await readBody(req, MAX_TOKEN_REQUEST_BYTES);
    if (length > MAX_TOKEN_REQUEST_BYTES)
      throw oauthError(400, 'invalid_request', 'The token request is too large.');
    const form = new URLSearchParams(bytes.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthError(
        400,
        'unsupported_grant_type',
        'The emulator supports grant_type=client_credentials only.',
      );
    }
    const credentials = credentialsOf(req, form);
    const client = credentials
      ? core.options.oauthClients.find(
          (c) => c.clientId === credentials.id && sameSecret(c.clientSecret, credentials.secret),
        )
      : undefined;
    if (!credentials || !client) {
      log.warn('emulator refused an OAuth client', credentials?.id ?? '(no credentials)');
      throw oauthError(401, 'invalid_client', 'client not found');
    }
    const accessToken = newSecret(48);
    accessTokens.set(accessToken, {
      clientId: client.clientId,
      expiresAt: core.now + ACCESS_TOKEN_SECONDS * 1000,
    });
    log.info('emulator issued an access token to OAuth client', client.clientId);
    sendJson(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: ACCESS_TOKEN_SECONDS });
  });

  router.on('GET', '/api/v2/conversations/messages/:messageId/details', ({ req, res, params }) => {
    requirePlatformToken(req);
    const found = core.findMessage(params.messageId ?? '');
    if (!found) throw platformError(404, 'not.found', `Message ${params.messageId} not found.`);
    sendJson(res, 200, messageDataJson(found.conversation, found.message));
  });

  router.on('GET', '/api/v2/conversations/messages/:conversationId', ({ req, res, params }) => {
    requirePlatformToken(req);
    sendJson(res, 200, conversationJson(conversationOf(params.conversationId ?? '')));
  });

  router.on(
    'PATCH',
    '/api/v2/conversations/messages/:conversationId/participants/:participantId/attributes',
    async ({ req, res, params }) => {
      requirePlatformToken(req);
      const conversation = conversationOf(params.conversationId ?? '');
      const participant = conversation.participants.find((p) => p.id === params.participantId);
      if (!participant)
        throw platformError(404, 'not.found', `Participant ${params.participantId} not found.`);
      const { attributes } = parseWith(attributesBody, await readJson(req));
      participant.attributes = { ...participant.attributes, ...attributes };
      const session = core.sessions.get(conversation.token);
      if (session) core.changed(session);
      sendJson(res, 200, { attributes: { ...participant.attributes } });
    },
  );

  router.on('GET', '/api/v2/webmessaging/messages', ({ req, res, url }) => {
    const jwt = bearerOf(req);
    const session = jwt === undefined ? undefined : core.sessionForJwt(jwt);
    if (!session) {
      throw platformError(401, 'authentication.required', 'A valid guest JWT (from getJwt) is required.');
    }
    const pageSize = pageNumber(url.searchParams.get('pageSize'), 25, 100, 'pageSize');
    const page = pageNumber(url.searchParams.get('pageNumber'), 1, Number.MAX_SAFE_INTEGER, 'pageNumber');
    // Newest first: Genesys' own SDK reverses each page and prepends it (reference §10.1).
    const newestFirst = [...(session.conversation?.messages ?? [])].reverse();
    sendJson(res, 200, {
      entities: newestFirst.slice((page - 1) * pageSize, page * pageSize),
      pageSize,
      pageNumber: page,
      total: newestFirst.length,
      pageCount: Math.ceil(newestFirst.length / pageSize),
    });
  });

  router.on('GET', '/webdeployments/v1/deployments/:deploymentId/config.json', ({ res, params }) => {
    if (params.deploymentId !== core.options.deploymentId) {
      throw platformError(404, 'not.found', `Deployment ${params.deploymentId} not found.`);
    }
    sendJson(res, 200, deploymentConfig(core));
  });
}
