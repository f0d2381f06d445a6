/**
 * What a running local stack (`npm start`) says about itself: `GET /.well-known/guest-relay` on the host
 * and port of its public WebSocket URL answers `{"deploymentId", "emulatorUrl"?}`. With the emulator's
 * HTTP base, `expectParticipantData` reads the emulator's Platform API with its built-in client, so
 * `guest-relay test --url ws://127.0.0.1:3001` needs no Genesys options. A deployed stack answers 403 or
 * 404. Asked only from the host the user named in `--url`, with a short timeout, redirects not followed.
 */
import * as z from 'zod';

export const WELL_KNOWN_PATH = '/.well-known/guest-relay';
const DEFAULT_TIMEOUT_MS = 2_000;

const stackInfoSchema = z.object({ deploymentId: z.string(), emulatorUrl: z.string().optional() });

export interface StackInfo {
  readonly deploymentId: string;
  /** The Genesys emulator's HTTP base; absent when the stack talks to real Genesys. */
  readonly emulatorUrl?: string;
}

export type Discovery =
  | { readonly ok: true; readonly info: StackInfo }
  | { readonly ok: false; readonly reason: string };

/** ws://host:port/any/path?query → http://host:port/.well-known/guest-relay (wss → https), no query. */
export function wellKnownUrl(wsUrl: string): URL {
  const url = new URL(wsUrl);
  const http = new URL(`${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`);
  http.pathname = WELL_KNOWN_PATH;
  return http;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** The emulator is used only on the machine the user named: the same host, or loopback for both. */
function emulatorProblem(emulatorUrl: string, wsUrl: string): string | undefined {
  let emulator: URL;
  try {
    emulator = new URL(emulatorUrl);
  } catch {
    return 'the stack names an emulator URL that is not a URL';
  }
  if (emulator.protocol !== 'http:' && emulator.protocol !== 'https:')
    return 'the stack names an emulator URL that is not http(s)';
  const host = new URL(wsUrl).hostname;
  const same = emulator.hostname === host || (LOOPBACK.test(emulator.hostname) && LOOPBACK.test(host));
  return same ? undefined : `the stack names an emulator on another host (${emulator.host}): not used`;
}

export async function discoverStack(
  wsUrl: string,
  timeoutMs: number = DEFAULT_TIMEOUT_MS,
): Promise<Discovery> {
  const url = wellKnownUrl(wsUrl);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return {
      ok: false,
      reason: timedOut ? `GET ${WELL_KNOWN_PATH} timed out` : `GET ${WELL_KNOWN_PATH} failed`,
    };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { ok: false, reason: `GET ${WELL_KNOWN_PATH} answered ${response.status}` };
  }
  const parsed = stackInfoSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    return { ok: false, reason: `GET ${WELL_KNOWN_PATH} answered something else than its JSON` };
  const { deploymentId, emulatorUrl } = parsed.data;
  const problem = emulatorUrl === undefined ? undefined : emulatorProblem(emulatorUrl, wsUrl);
  if (problem !== undefined) return { ok: false, reason: problem };
  return { ok: true, info: { deploymentId, ...(emulatorUrl === undefined ? {} : { emulatorUrl }) } };
}
