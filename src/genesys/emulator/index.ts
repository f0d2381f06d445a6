/**
 * A local emulator of the Genesys Cloud Web Messaging guest API (WebSocket), the REST endpoints around it,
 * a scripted bot, an agent console and fault injection. See docs/emulator.md.
 */
export type { AgentConsole } from './agent-console.js';
export {
  type BotBehaviour,
  type BotStats,
  formatResponseTime,
  parseErrorRate,
  parseResponseTime,
  type ResponseTime,
  responseTimeMedian,
  responseTimeP95,
  sampleResponseTime,
} from './bot-behaviour.js';
export type { ConsoleEvent } from './console-hub.js';
export {
  DEFAULT_AGENT_NICKNAME,
  DEFAULT_TYPING_MS,
  type GuestSocketObservation,
  type GuestSocketObserver,
  JWT_LIFETIME_SECONDS,
} from './core.js';
export { DEFAULT_SCRIPT } from './default-script.js';
export { EmulatorError, type EmulatorErrorCode } from './errors.js';
export { type FaultInjector, type FaultState, REORDER_FLUSH_MS } from './faults.js';
export type { ServerFrame } from './frames.js';
export { ManualClock } from './manual-clock.js';
export {
  DEFAULT_DEPLOYMENT_ID,
  DEFAULT_FILE_TYPES,
  DEFAULT_LIMITS,
  type EmulatorLimits,
  type EmulatorOptions,
} from './options.js';
export {
  type BotRule,
  type BotScript,
  type Card,
  type CardAction,
  parseBotScript,
  parseReply,
  type Reply,
  type RuleMatch,
  ScriptValidationError,
} from './scripts.js';
export { type GenesysEmulator, startGenesysEmulator } from './server.js';
export type { EmulatorSessionSnapshot } from './sessions.js';
