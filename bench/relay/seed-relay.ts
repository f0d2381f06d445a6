/**
 * The baseline relay: what the seed tutorial builds, done right for today's Guest API. One process, no
 * store, no queue, no validation beyond JSON.parse: each frontend connection gets its own upstream socket
 * (configureSession with a fresh token), `{action:'send', text}` is forwarded as `onMessage`, and every
 * Outbound message Genesys pushes is forwarded as `{type:'message', text}`. Frames arriving before the
 * upstream session is ready are buffered. It is what guest-relay is compared with, not a product.
 *
 *   node --import tsx bench/relay/seed-relay.ts <guest-api ws url> <deploymentId>
 */
import { randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { announceServer, answerReports } from './child.js';
import { sendTextOf, type UpstreamFrame } from './frontend-frames.js';

const [upstreamUrl, deploymentId] = process.argv.slice(2);
if (upstreamUrl === undefined || deploymentId === undefined) {
  console.error('usage: seed-relay.ts <guest-api ws url> <deploymentId>');
  process.exit(2);
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', (frontend) => {
  const token = randomUUID();
  const upstream = new WebSocket(`${upstreamUrl}?deploymentId=${encodeURIComponent(deploymentId)}`, {
    perMessageDeflate: false,
  });
  let ready = false;
  const waiting: string[] = [];
  const onMessage = (text: string): string =>
    JSON.stringify({ action: 'onMessage', token, message: { type: 'Text', text } });

  upstream.on('open', () => {
    upstream.send(JSON.stringify({ action: 'configureSession', token, deploymentId }));
  });
  upstream.on('message', (data) => {
    const frame = JSON.parse(data.toString('utf8')) as UpstreamFrame;
    if (frame.class === 'SessionResponse' && !ready) {
      ready = true;
      for (const text of waiting.splice(0)) upstream.send(onMessage(text));
      frontend.send(JSON.stringify({ type: 'connect' }));
    } else if (frame.class === 'StructuredMessage' && frame.body?.direction === 'Outbound') {
      frontend.send(JSON.stringify({ type: 'message', text: frame.body.text }));
    }
  });
  upstream.on('close', () => frontend.close());
  upstream.on('error', () => frontend.terminate());

  frontend.on('message', (data) => {
    const text = sendTextOf(frontend, data);
    if (text === undefined) return;
    if (ready) upstream.send(onMessage(text));
    else waiting.push(text);
  });
  frontend.on('close', () => upstream.close());
});
announceServer(server);
// The CPU the seed relay spends per message, beside guest-relay's.
answerReports();
