/**
 * `expectParticipantData` against a running local stack (`npm start`) given only its WebSocket URL: the
 * runner asks the stack's `GET /.well-known/guest-relay` for the Genesys emulator and reads the emulator's
 * Platform API, with no Genesys options. A stack that answers 404 there (as a deployed one does) keeps the
 * message that says which options participant data needs. The local stack is real; the "deployed" stack is
 * a loopback front that passes WebSocket upgrades to it and answers every HTTP request with 404.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverStack, WELL_KNOWN_PATH, wellKnownUrl } from '../../../cli/scenarios/stack-discovery.js';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import { cliHere } from './cli-here.js';

interface Front {
  readonly url: string;
  /** The paths of the plain HTTP requests it answered. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A stack's address that answers HTTP with `answer` and passes WebSocket upgrades to `wsUrl`. */
async function front(
  wsUrl: string,
  answer: (req: IncomingMessage) => { status: number; body?: unknown } = () => ({ status: 404 }),
): Promise<Front> {
  const target = new URL(wsUrl);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const { status, body } = answer(req);
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(body === undefined ? undefined : JSON.stringify(body));
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const upstream = connect(Number(target.port), target.hostname, () => {
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const WITH_PARTICIPANT_DATA = [
  'scenarios:',
  '  "context reaches Genesys":',
  '    guestInfo: { firstName: Ada }',
  '    steps:',
  '      - say: hi',
  "      - waitForReplyContaining: I'm the Genesys emulator's bot",
  '      - setContext:',
  '          page: checkout',
  '      - expectParticipantData:',
  '          firstName: Ada',
  '          page: checkout',
  '',
].join('\n');

const WITHOUT_PARTICIPANT_DATA = [
  'scenarios:',
  '  "greeting":',
  '    - say: hi',
  "    - waitForReplyContaining: I'm the Genesys emulator's bot",
  '',
].join('\n');

function scenarioFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'guest-relay-pd-')), 'scenario.yaml');
  writeFileSync(file, text);
  return file;
}

describe('guest-relay test --url: participant data from a running local stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack(EMBEDDED);
  }, 30_000);
  afterAll(() => stack.stop());

  it('finds the local stack’s emulator at /.well-known/guest-relay on the --url’s host and port', async () => {
    expect(wellKnownUrl(`${stack.wsUrl}?token=x`).href).toBe(stack.discoveryUrl);
    const found = await discoverStack(stack.wsUrl);
    expect(found).toEqual({
      ok: true,
      info: { deploymentId: stack.deploymentId, emulatorUrl: stack.emulatorUrl },
    });
  });

  it('passes expectParticipantData with only --url and --token', async () => {
    const result = await cliHere([
      'test',
      scenarioFile(WITH_PARTICIPANT_DATA),
      '--url',
      stack.wsUrl,
      '--token',
      stack.token,
    ]);
    expect(result.out).toContain('1 passed, 0 failed');
    expect(result.err).toContain(
      `expectParticipantData: read from the Genesys emulator of the local stack at --url (${stack.emulatorUrl})`,
    );
    expect(result.code).toBe(0);
  }, 30_000);

  it('keeps the message about the Genesys options when the stack answers 404, and asks only when a scenario needs it', async () => {
    const deployed = await front(stack.wsUrl);
    try {
      const needs = await cliHere([
        'test',
        scenarioFile(WITH_PARTICIPANT_DATA),
        '--url',
        deployed.url,
        '--token',
        stack.token,
      ]);
      expect(needs.code).toBe(1);
      expect(needs.out).toContain(
        'expectParticipantData needs Genesys Platform API access: pass --genesys-client-id and --genesys-client-secret (with --genesys-region), or run against local mode',
      );
      expect(needs.err).toContain(
        `expectParticipantData: the stack at --url is not a local stack (GET ${WELL_KNOWN_PATH} answered 404).`,
      );
      expect(deployed.requests).toEqual([WELL_KNOWN_PATH]);
      const without = await cliHere([
        'test',
        scenarioFile(WITHOUT_PARTICIPANT_DATA),
        '--url',
        deployed.url,
        '--token',
        stack.token,
      ]);
      expect(without.code).toBe(0);
      expect(deployed.requests).toEqual([WELL_KNOWN_PATH]);
    } finally {
      await deployed.close();
    }
  }, 40_000);
});

describe('discoverStack', () => {
  it('uses no emulator on another host, does not follow redirects, and gives up after its timeout', async () => {
    const elsewhere = await front('ws://127.0.0.1:1/local', () => ({
      status: 200,
      // Never contacted: the answer is refused on its host name alone.
      body: { deploymentId: 'd-1', emulatorUrl: 'http://192.0.2.1:8787' },
    }));
    const redirect = await front('ws://127.0.0.1:1/local', () => ({ status: 302 }));
    const silent = createServer(() => {});
    const silentPort = await listen(silent);
    try {
      expect(await discoverStack(elsewhere.url)).toEqual({
        ok: false,
        reason: 'the stack names an emulator on another host (192.0.2.1:8787): not used',
      });
      expect(await discoverStack(redirect.url)).toEqual({
        ok: false,
        reason: `GET ${WELL_KNOWN_PATH} answered 302`,
      });
      expect(await discoverStack(`ws://127.0.0.1:${silentPort}/local`, 200)).toEqual({
        ok: false,
        reason: `GET ${WELL_KNOWN_PATH} timed out`,
      });
      // Local mode in front of real Genesys names no emulator.
      const genesys = await front('ws://127.0.0.1:1/local', () => ({
        status: 200,
        body: { deploymentId: 'd-2' },
      }));
      expect(await discoverStack(genesys.url)).toEqual({ ok: true, info: { deploymentId: 'd-2' } });
      await genesys.close();
    } finally {
      await elsewhere.close();
      await redirect.close();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
