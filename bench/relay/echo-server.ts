/**
 * The physical floor of the relay benchmark: a `ws` server in its own process that sends every text
 * frame straight back. The load generator measures the round trip and halves it: one hop between two
 * processes on this machine, through the same library and loopback the relay uses.
 */
import { WebSocketServer } from 'ws';
import { announceServer } from './child.js';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
announceServer(server);
