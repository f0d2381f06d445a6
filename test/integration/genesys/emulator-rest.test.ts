import platformClient from 'purecloud-platform-client-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, httpJson, type Json, startHarness, textMessage } from './emulator-harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

async function jwtFor(
  token: string,
): Promise<{ jwt: string; client: Awaited<ReturnType<Harness['guest']>>['client'] }> {
  const { client } = await harness.guest(token);
  const frame = await client.request({ action: 'getJwt', token }, 'JwtResponse');
  return { jwt: (frame.body as Json).jwt, client };
}

describe('guest history REST', () => {
  it('returns the conversation newest first, both directions, with the metadata the guest sent', async () => {
    harness = await startHarness();
    const { jwt, client } = await jwtFor('hist');
    client.send(textMessage('hist', 'first', { metadata: { id: 'client-1' } }));
    await client.nextOfClass('StructuredMessage');
    harness.emulator.agent.say('hist', { from: 'agent', text: 'second' });
    await client.nextOfClass('StructuredMessage');
    harness.clock.advance(1000);
    client.send(textMessage('hist', 'third'));
    await client.nextOfClass('StructuredMessage');

    const page = await httpJson(
      `${harness.emulator.httpUrl}/api/v2/webmessaging/messages?pageSize=25&pageNumber=1`,
      {
        headers: { Authorization: `bearer ${jwt}` },
      },
    );
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ pageSize: 25, pageNumber: 1, total: 3, pageCount: 1 });
    const entities = page.body.entities as Json[];
    expect(entities.map((e) => [e.text, e.direction])).toEqual([
      ['third', 'Inbound'],
      ['second', 'Outbound'],
      ['first', 'Inbound'],
    ]);
    expect(entities[2].metadata).toMatchObject({ id: 'client-1' });
    expect(entities[1].originatingEntity).toBe('Human');

    const paged = await httpJson(
      `${harness.emulator.httpUrl}/api/v2/webmessaging/messages?pageSize=2&pageNumber=2`,
      {
        headers: { Authorization: `Bearer ${jwt}` },
      },
    );
    expect(paged.body).toMatchObject({ pageSize: 2, pageNumber: 2, total: 3, pageCount: 2 });
    expect(paged.body.entities.map((e: Json) => e.text)).toEqual(['first']);
  });

  it('answers 401 without a JWT, with an unknown one and after the JWT expires', async () => {
    harness = await startHarness();
    const { jwt } = await jwtFor('secure');
    const url = `${harness.emulator.httpUrl}/api/v2/webmessaging/messages`;
    expect((await httpJson(url)).status).toBe(401);
    expect((await httpJson(url, { headers: { Authorization: 'bearer not-a-jwt' } })).status).toBe(401);
    expect((await httpJson(url, { headers: { Authorization: `bearer ${jwt}` } })).status).toBe(200);
    harness.clock.advance(3600 * 1000);
    expect((await httpJson(url, { headers: { Authorization: `bearer ${jwt}` } })).status).toBe(401);
  });

  it('answers 400 for a page size out of range', async () => {
    harness = await startHarness();
    const { jwt } = await jwtFor('pages');
    const response = await httpJson(`${harness.emulator.httpUrl}/api/v2/webmessaging/messages?pageSize=0`, {
      headers: { Authorization: `bearer ${jwt}` },
    });
    expect(response.status).toBe(400);
  });
});

describe('deployment config REST', () => {
  it('serves config.json for the deployment with the emulator endpoints and limits', async () => {
    harness = await startHarness({ conversationDisconnect: 'Send', limits: { maxFileSizeKB: 2048 } });
    const { emulator } = harness;
    const config = await httpJson(
      `${emulator.httpUrl}/webdeployments/v1/deployments/${emulator.deploymentId}/config.json`,
    );
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({
      id: emulator.deploymentId,
      apiEndpoint: emulator.httpUrl,
      status: 'Active',
      messenger: {
        enabled: true,
        apps: {
          conversations: {
            messagingEndpoint: emulator.wsUrl.replace(/\/v1$/, ''),
            conversationDisconnect: { enabled: true, type: 'Send' },
            conversationClear: { enabled: true },
            autoStart: { enabled: false },
          },
        },
        fileUpload: {
          modes: [
            {
              fileTypes: ['image/jpeg', 'image/png', 'image/gif', 'application/pdf', 'text/plain'],
              maxFileSizeKB: 2048,
            },
          ],
        },
      },
    });
    expect(
      (await httpJson(`${emulator.httpUrl}/webdeployments/v1/deployments/other/config.json`)).status,
    ).toBe(404);
  });

  it('offers concrete file types by default, no wildcard, in config.json and the SessionResponse', async () => {
    harness = await startHarness();
    const { emulator } = harness;
    const config = await httpJson(
      `${emulator.httpUrl}/webdeployments/v1/deployments/${emulator.deploymentId}/config.json`,
    );
    const configTypes: string[] = config.body.messenger.fileUpload.modes.flatMap((m: Json) => m.fileTypes);
    const { session } = await harness.guest('types');
    const sessionTypes: string[] = (session.body as Json).allowedMedia.inbound.fileTypes.map(
      (t: Json) => t.type,
    );
    for (const types of [configTypes, sessionTypes]) {
      expect(types).toContain('image/png');
      expect(types.filter((type) => type.includes('*'))).toEqual([]);
    }
    expect(sessionTypes).toEqual(configTypes);
  });

  it('answers CORS preflights so that browsers can call it', async () => {
    harness = await startHarness();
    const response = await fetch(`${harness.emulator.httpUrl}/api/v2/webmessaging/messages`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});

describe('Platform API through purecloud-platform-client-v2', () => {
  const client = platformClient.ApiClient.instance;

  beforeEach(async () => {
    harness = await startHarness();
    // The SDK's ApiClient is a singleton: point it at this emulator and forget any earlier token.
    client.setGateway({
      protocol: 'http',
      host: '127.0.0.1',
      port: harness.emulator.port,
      path_params_login: 'login',
      path_params_api: '',
    });
    client.setAccessToken('');
  });

  it('logs in with client credentials and resolves the conversation of a guest message', async () => {
    const { client: guest } = await harness.guest('sdk');
    guest.send(
      textMessage('sdk', 'hello', {
        channel: { metadata: { customAttributes: { IsAutomatedTest: 'true' } } },
      }),
    );
    const echo = (await guest.nextOfClass('StructuredMessage')).body as Json;

    const auth = await client.loginClientCredentialsGrant('emulator-client', 'emulator-secret');
    expect(auth.accessToken).toEqual(expect.any(String));
    const conversations = new platformClient.ConversationsApi();
    const details = await conversations.getConversationsMessageDetails(echo.id);
    const conversationId = harness.emulator.sessions()[0]?.conversationId;
    expect(details).toMatchObject({ id: echo.id, conversationId, direction: 'inbound', textBody: 'hello' });

    const conversation = await conversations.getConversationsMessage(conversationId ?? '');
    const customer = conversation.participants?.find((p) => p.purpose === 'customer');
    expect(customer?.attributes).toEqual({ IsAutomatedTest: 'true' });
    expect(conversation.participants?.map((p) => p.purpose)).toContain('acd');

    const patched = await conversations.patchConversationsMessageParticipantAttributes(
      conversationId ?? '',
      customer?.id ?? '',
      { body: { attributes: { Verified: 'yes' } } },
    );
    expect(patched.attributes).toEqual({ IsAutomatedTest: 'true', Verified: 'yes' });
  });

  it('rejects a wrong client secret and API calls without a token', async () => {
    await expect(client.loginClientCredentialsGrant('emulator-client', 'wrong')).rejects.toBeDefined();
    const refused = await httpJson(`${harness.emulator.httpUrl}/api/v2/conversations/messages/x/details`);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ status: 401, code: 'authentication.required' });
  });

  it('answers 404 in the Platform error shape for an unknown message', async () => {
    await client.loginClientCredentialsGrant('emulator-client', 'emulator-secret');
    const conversations = new platformClient.ConversationsApi();
    await expect(conversations.getConversationsMessageDetails('nope')).rejects.toMatchObject({
      status: 404,
      code: 'not.found',
    });
  });

  it('accepts client_id and client_secret in the form as well as HTTP Basic', async () => {
    const response = await httpJson(`${harness.emulator.httpUrl}/login/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=emulator-client&client_secret=emulator-secret',
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 86399,
    });
    const wrongGrant = await httpJson(`${harness.emulator.httpUrl}/login/oauth/token`, {
      method: 'POST',
      body: 'grant_type=password',
    });
    expect(wrongGrant.status).toBe(400);
  });
});
