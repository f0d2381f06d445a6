/**
 * Builds the AsyncAPI 3 document of the public protocol from the same zod schemas that parse frames
 * at run time, so the document cannot drift from the code. `npm run docs:asyncapi` writes it to
 * docs/asyncapi.yaml; a test fails when the committed file differs from what this builds.
 */
import { z } from 'zod';
import { CLIENT_ACTION_SCHEMAS, type ClientAction } from '../src/protocol/client-frames.js';
import { JSON_VALUE_JSON_SCHEMA, jsonValueSchema } from '../src/protocol/common.js';
import { ERROR_CODE_LIST, ERROR_CODES } from '../src/protocol/error-codes.js';
import { MAX_FRAME_BYTES } from '../src/protocol/limits.js';
import { SERVER_EVENT_SCHEMAS, type ServerEventType } from '../src/protocol/server-events.js';

type JsonObject = { [key: string]: unknown };

/** What each action is answered with at once (the AsyncAPI `reply`), where there is one answer. */
const REPLIES: Partial<Record<ClientAction, ServerEventType>> = {
  connect: 'connect',
  send: 'message',
  context: 'context',
  history: 'history',
  typing: 'ack',
  upload: 'ack',
  end: 'ack',
  ping: 'pong',
};

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const actionMessage = (action: string) => `${pascal(action)}Action`;
const eventMessage = (type: string) => `${pascal(type)}Event`;

/** zod puts shared recursive definitions in a `__shared` bucket; AsyncAPI wants them as components. */
function componentSchemas(): Record<string, JsonObject> {
  // Referencing the schema maps makes sure every protocol schema is registered before we read the registry.
  void CLIENT_ACTION_SCHEMAS;
  void SERVER_EVENT_SCHEMAS;
  const generated = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-7',
    io: 'input',
    // jsonValueSchema is a z.custom (see common.ts); the override below says what it accepts.
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    override: (context) => {
      if (context.zodSchema === jsonValueSchema) Object.assign(context.jsonSchema, JSON_VALUE_JSON_SCHEMA);
    },
  }) as { schemas: Record<string, JsonObject> };

  const schemas: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    if (id === '__shared') {
      const definitions = (schema.definitions ?? {}) as Record<string, JsonObject>;
      for (const [name, definition] of Object.entries(definitions)) schemas[sharedName(name)] = definition;
      continue;
    }
    const { $schema: _schema, $id: _id, ...rest } = schema;
    schemas[id] = rest;
  }
  return rewriteRefs(schemas) as Record<string, JsonObject>;
}

const sharedName = (name: string) => `Shared${pascal(name)}`;

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$ref' && typeof inner === 'string') {
      const shared = /^#\/components\/schemas\/__shared#\/definitions\/(.+)$/.exec(inner);
      out[key] = shared ? `#/components/schemas/${sharedName(shared[1] as string)}` : inner;
    } else out[key] = rewriteRefs(inner);
  }
  return out;
}

export function buildAsyncApiDocument(): JsonObject {
  const schemas = componentSchemas();
  const messages: Record<string, JsonObject> = {};
  const channelMessages: Record<string, JsonObject> = {};

  for (const action of Object.keys(CLIENT_ACTION_SCHEMAS)) {
    const name = actionMessage(action);
    const schema = schemas[name] ?? {};
    messages[name] = {
      name,
      title: `${action} (client → server)`,
      summary: String(schema.description ?? ''),
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${name}` },
    };
    channelMessages[name] = { $ref: `#/components/messages/${name}` };
  }
  for (const type of Object.keys(SERVER_EVENT_SCHEMAS)) {
    const name = eventMessage(type);
    const schema = schemas[name] ?? {};
    messages[name] = {
      name,
      title: `${type} (server → client)`,
      summary: String(schema.description ?? ''),
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${name}` },
    };
    channelMessages[name] = { $ref: `#/components/messages/${name}` };
  }

  const channelRef = { $ref: '#/channels/guest' };
  const operations: Record<string, JsonObject> = {};
  for (const action of Object.keys(CLIENT_ACTION_SCHEMAS) as ClientAction[]) {
    const reply = REPLIES[action];
    operations[`receive${pascal(action)}`] = {
      action: 'receive',
      channel: channelRef,
      summary: `A client sends \`${action}\`.`,
      messages: [{ $ref: `#/channels/guest/messages/${actionMessage(action)}` }],
      ...(reply
        ? {
            reply: {
              channel: channelRef,
              messages: [
                { $ref: `#/channels/guest/messages/${eventMessage(reply)}` },
                { $ref: '#/channels/guest/messages/ErrorEvent' },
              ],
            },
          }
        : {}),
    };
  }
  for (const type of Object.keys(SERVER_EVENT_SCHEMAS)) {
    operations[`send${pascal(type)}`] = {
      action: 'send',
      channel: channelRef,
      summary: `The service sends \`${type}\`.`,
      messages: [{ $ref: `#/channels/guest/messages/${eventMessage(type)}` }],
    };
  }

  const errorTable = ERROR_CODE_LIST.map(
    (code) =>
      `- \`${code}\`${ERROR_CODES[code].retryable ? ' (retryable)' : ''}: ${ERROR_CODES[code].meaning}`,
  ).join('\n');

  return {
    asyncapi: '3.1.0',
    info: {
      title: 'guest-relay public WebSocket API',
      version: '1.0.0',
      description: [
        'Frontends, test harnesses and CI jobs speak this protocol to act as a Genesys Cloud Web Messaging guest.',
        'Client frames are JSON objects routed by `action`; server events are JSON objects named by `type`.',
        `A WebSocket frame is at most 32 KB (API Gateway closes a larger one with 1009; browsers never split a message into frames), a message at most ${MAX_FRAME_BYTES} bytes (for clients that split). Clients must ignore event types and fields they do not know.`,
        'See docs/protocol.md for the full description.',
        '',
        'Error codes:',
        errorTable,
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:{port}',
        protocol: 'ws',
        pathname: '/local',
        description: 'Local mode (`npm start`).',
        variables: { port: { default: '3001', description: 'The port local mode prints.' } },
        security: [{ $ref: '#/components/securitySchemes/accessToken' }],
      },
      cloud: {
        host: '{apiId}.execute-api.{region}.amazonaws.com',
        pathname: '/{stage}',
        protocol: 'wss',
        description: 'A deployed stack (API Gateway WebSocket API).',
        variables: {
          apiId: { description: 'The public WebSocket API id (a stack output).' },
          region: { default: 'eu-west-1' },
          stage: { default: 'live' },
        },
        security: [{ $ref: '#/components/securitySchemes/accessToken' }],
      },
    },
    channels: {
      guest: {
        address: '/',
        title: 'Guest connection',
        description: 'One WebSocket per guest view. Open it with `?token=<access token>`.',
        messages: channelMessages,
      },
    },
    operations,
    components: {
      securitySchemes: {
        accessToken: {
          type: 'httpApiKey',
          name: 'token',
          in: 'query',
          description:
            'A short-lived HS256 access token naming the team and role, minted with the signing secret.',
        },
      },
      schemas,
      messages,
    },
  };
}
