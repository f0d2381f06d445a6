/**
 * Options of the Genesys emulator: one DEFAULTS object, spread with the caller's options, unknown keys
 * and out-of-range values rejected at start with the offending key named.
 */
import { type Clock, systemClock } from '../../domain/clock.js';
import { withDefaults } from '../../domain/options.js';
import { type Log, silentLog } from '../../logging/log.js';
import { type BotBehaviour, type ResolvedBotBehaviour, resolveBotBehaviour } from './bot-behaviour.js';
import { DEFAULT_SCRIPT } from './default-script.js';
import { type BotScript, parseBotScript } from './scripts.js';

/** The deployment id the emulator accepts unless told otherwise. Fixed, so local configs can hard-code it. */
export const DEFAULT_DEPLOYMENT_ID = '7d1e7a5c-2f0b-4e0a-9b1c-e6a1a7f0c0de';

export interface EmulatorLimits {
  /** onMessage per session in any sliding 1 s window (Genesys: 2). An integer >= 1, or Infinity for none. */
  readonly messagesPerSecond: number;
  /** Code points in one guest text (4011 above it). */
  readonly maxTextLength: number;
  /** UTF-8 bytes of all custom attribute keys + values of a conversation (4013 above it). */
  readonly maxCustomDataBytes: number;
  /** Inactivity TTL of a guest session: expiry = last request + this. */
  readonly sessionDurationSeconds: number;
  /** Largest guest upload (4002 above it). */
  readonly maxFileSizeKB: number;
  /**
   * Sockets one token may have open at once; configuring one more sends the oldest a
   * ConnectionClosedEvent and closes it (Genesys' "session limit reached"). 0 = no limit.
   */
  readonly maxConnectionsPerSession: number;
}

export interface EmulatorOptions {
  /** Default '127.0.0.1'. The emulator listens on this host only. */
  host?: string | undefined;
  /** Default 0 (an ephemeral port). */
  port?: number | undefined;
  /** Default DEFAULT_DEPLOYMENT_ID. */
  deploymentId?: string | undefined;
  /** Origins allowed to open the guest WebSocket; empty or absent = any Origin (and none). */
  allowedOrigins?: readonly string[] | undefined;
  /** Default DEFAULT_SCRIPT; null = no bot (tests drive the agent by hand). */
  script?: BotScript | null | undefined;
  /**
   * The bot's response time and error rate when it answers a guest message (docs/emulator.md, "Bot
   * response time and errors"). Default {}: every answer, at once, as scripted.
   */
  bot?: BotBehaviour | undefined;
  limits?: Partial<EmulatorLimits> | undefined;
  /**
   * MIME types guests may upload (`type/*` and `*\/*` work as wildcards). Default DEFAULT_FILE_TYPES:
   * concrete types, as published deployments list them, since some clients match no wildcard.
   */
  allowedFileTypes?: readonly string[] | undefined;
  /** Default ['.exe', '.bat', '.cmd', '.js', '.vbs']. */
  blockedExtensions?: readonly string[] | undefined;
  /** What an agent disconnect does to the session. Default 'ReadOnly'. */
  conversationDisconnect?: 'ReadOnly' | 'Send' | undefined;
  /** Whether guests may clear their conversation (Presence Clear). Default true. */
  conversationClear?: boolean | undefined;
  /** Whether the deployment config advertises autoStart (guests send Presence Join). Default false. */
  autoStart?: boolean | undefined;
  /**
   * Whether guest typing events count toward `messagesPerSecond`. Genesys does not say; they use the same
   * action as messages, so the default is true.
   */
  typingCountsTowardRateLimit?: boolean | undefined;
  /** Default [{clientId: 'emulator-client', clientSecret: 'emulator-secret'}]. */
  oauthClients?: readonly { clientId: string; clientSecret: string }[] | undefined;
  /** Default: the system clock. Expiry, bot delays, typing and fault delays all go through it. */
  clock?: Clock | undefined;
  /** Default: silent. */
  logger?: Log | undefined;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly deploymentId: string;
  readonly allowedOrigins: readonly string[];
  readonly script: BotScript | null;
  readonly bot: ResolvedBotBehaviour;
  readonly limits: EmulatorLimits;
  readonly allowedFileTypes: readonly string[];
  readonly blockedExtensions: readonly string[];
  readonly conversationDisconnect: 'ReadOnly' | 'Send';
  readonly conversationClear: boolean;
  readonly autoStart: boolean;
  readonly typingCountsTowardRateLimit: boolean;
  readonly oauthClients: readonly { readonly clientId: string; readonly clientSecret: string }[];
  readonly clock: Clock;
  readonly logger: Log;
}

/**
 * The file types a default deployment accepts: concrete types, as in published samples (reference §4,
 * §10.2: `image/png`, `image/jpeg`, `image/gif`), plus a PDF and plain text. No wildcard: a client that
 * compares types as strings would refuse every image under `image/*`.
 */
export const DEFAULT_FILE_TYPES: readonly string[] = Object.freeze([
  'image/jpeg',
  'image/png',
  'image/gif',
  'application/pdf',
  'text/plain',
]);

export const DEFAULT_LIMITS: EmulatorLimits = Object.freeze({
  messagesPerSecond: 2,
  maxTextLength: 4000,
  maxCustomDataBytes: 2048,
  sessionDurationSeconds: 86_400,
  maxFileSizeKB: 10_240,
  maxConnectionsPerSession: 0,
});

/** Every option with its default. */
export const DEFAULTS: { readonly [K in keyof EmulatorOptions]-?: Exclude<EmulatorOptions[K], undefined> } =
  Object.freeze({
    host: '127.0.0.1',
    port: 0,
    deploymentId: DEFAULT_DEPLOYMENT_ID,
    allowedOrigins: Object.freeze([]),
    script: DEFAULT_SCRIPT,
    bot: Object.freeze({}),
    limits: DEFAULT_LIMITS,
    allowedFileTypes: DEFAULT_FILE_TYPES,
    blockedExtensions: Object.freeze(['.exe', '.bat', '.cmd', '.js', '.vbs']),
    conversationDisconnect: 'ReadOnly',
    conversationClear: true,
    autoStart: false,
    typingCountsTowardRateLimit: true,
    oauthClients: Object.freeze([
      Object.freeze({ clientId: 'emulator-client', clientSecret: 'emulator-secret' }),
    ]),
    clock: systemClock,
    logger: silentLog,
  });

const LIMIT_RULES: Readonly<Record<keyof EmulatorLimits, [(value: number) => boolean, string]>> = {
  messagesPerSecond: [
    (v) => v === Number.POSITIVE_INFINITY || (Number.isSafeInteger(v) && v >= 1),
    'an integer >= 1 or Infinity',
  ],
  maxTextLength: [(v) => Number.isSafeInteger(v) && v >= 1, 'an integer >= 1'],
  maxCustomDataBytes: [(v) => Number.isSafeInteger(v) && v >= 0, 'an integer >= 0'],
  sessionDurationSeconds: [(v) => Number.isSafeInteger(v) && v >= 1, 'an integer >= 1'],
  maxFileSizeKB: [(v) => Number.isSafeInteger(v) && v >= 1, 'an integer >= 1'],
  maxConnectionsPerSession: [(v) => Number.isSafeInteger(v) && v >= 0, 'an integer >= 0 (0 = no limit)'],
};

function resolveLimits(limits: Partial<EmulatorLimits>): EmulatorLimits {
  const merged = withDefaults('startGenesysEmulator limits', DEFAULT_LIMITS, limits);
  for (const [key, [valid, expected]] of Object.entries(LIMIT_RULES)) {
    const value: unknown = merged[key as keyof EmulatorLimits];
    if (typeof value !== 'number' || !valid(value)) {
      throw new RangeError(`Emulator limit "${key}" must be ${expected}, got ${String(value)}`);
    }
  }
  return merged;
}

function nonEmptyStrings(key: string, values: readonly unknown[]): string[] {
  for (const value of values) {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TypeError(`Emulator option "${key}" must hold non-empty strings`);
    }
  }
  return values as string[];
}

/**
 * The caller's options over DEFAULTS, validated and frozen.
 *
 * @throws TypeError for an unknown option or limit; RangeError for a value out of range;
 *   ScriptValidationError for an invalid script.
 */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const merged = withDefaults('startGenesysEmulator', DEFAULTS, options);
  const { port, deploymentId, oauthClients, conversationDisconnect, script } = merged;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`Emulator option "port" must be an integer from 0 to 65535, got ${port}`);
  }
  if (deploymentId.trim() === '') throw new RangeError('Emulator option "deploymentId" must not be empty');
  for (const client of oauthClients) nonEmptyStrings('oauthClients', [client.clientId, client.clientSecret]);
  if (conversationDisconnect !== 'ReadOnly' && conversationDisconnect !== 'Send') {
    throw new RangeError(`Emulator option "conversationDisconnect" must be 'ReadOnly' or 'Send'`);
  }
  return Object.freeze({
    host: merged.host,
    port,
    deploymentId,
    allowedOrigins: Object.freeze([...nonEmptyStrings('allowedOrigins', merged.allowedOrigins)]),
    // The default script is valid by construction; any other is checked.
    script: script === DEFAULT_SCRIPT ? script : script && parseBotScript(script),
    bot: resolveBotBehaviour(merged.bot),
    limits: resolveLimits(merged.limits),
    allowedFileTypes: Object.freeze(
      nonEmptyStrings('allowedFileTypes', merged.allowedFileTypes).map((t) => t.trim().toLowerCase()),
    ),
    blockedExtensions: Object.freeze(
      nonEmptyStrings('blockedExtensions', merged.blockedExtensions).map((e) => {
        const ext = e.trim().toLowerCase();
        return ext.startsWith('.') ? ext : `.${ext}`;
      }),
    ),
    conversationDisconnect,
    conversationClear: merged.conversationClear,
    autoStart: merged.autoStart,
    typingCountsTowardRateLimit: merged.typingCountsTowardRateLimit,
    oauthClients: Object.freeze(oauthClients.map((c) => Object.freeze({ ...c }))),
    clock: merged.clock,
    logger: merged.logger,
  });
}
