/**
 * Preloaded into a `guest-relay` child process by the scenario-runner tests (`node --import tsx --import
 * <this file>`): every TCP connection and every DNS lookup must be for 127.0.0.1 or localhost. Anything
 * else is refused before any lookup or connection, and reported on stderr as `loopback-guard: refused
 * <host>`, so a test can prove that a run stayed on this machine.
 */
import dns from 'node:dns';
import net from 'node:net';

const ALLOWED: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost']);

function refused(host: string): Error {
  process.stderr.write(`loopback-guard: refused ${host}\n`);
  return Object.assign(new Error(`loopback-guard: ${host} is not 127.0.0.1 or localhost`), {
    code: 'ECONNREFUSED',
  });
}

/** The host of `socket.connect(...)`'s arguments; undefined for a local (IPC) path. */
function hostOf(args: readonly unknown[]): string | undefined {
  const [first, second] = args;
  // `net.connect()` and `tls.connect()` pass their arguments on already normalized, as one array.
  if (Array.isArray(first)) return hostOf(first);
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string };
    return options.path !== undefined ? undefined : (options.host ?? 'localhost');
  }
  if (typeof first === 'string' && Number.isNaN(Number(first))) return undefined;
  return typeof second === 'string' ? second : 'localhost';
}

const connect = net.Socket.prototype.connect;
// `connect` has several overloads; the guard passes its arguments through unchanged.
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const host = hostOf(args);
  if (host !== undefined && !ALLOWED.has(host)) {
    const error = refused(host);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
  const callback = rest.at(-1) as (error: Error) => void;
  if (!ALLOWED.has(hostname)) {
    const error = refused(hostname);
    process.nextTick(() => callback(error));
    return;
  }
  return (lookup as (...a: unknown[]) => void)(hostname, ...rest);
} as typeof dns.lookup;

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = ((hostname: string, ...rest: unknown[]) =>
  ALLOWED.has(hostname)
    ? (promisesLookup as (...a: unknown[]) => Promise<unknown>)(hostname, ...rest)
    : Promise.reject(refused(hostname))) as typeof dns.promises.lookup;

process.stderr.write('loopback-guard: active\n');
