/** The relay core: one module per public-API route, config and deps. See docs/relay.md. */
export * from './access.js';
export * from './config.js';
export * from './connect.js';
export * from './connection.js';
export * from './context.js';
export * from './default.js';
export * from './deps.js';
export * from './end.js';
export * from './expiry.js';
export * from './history.js';
export * from './ping.js';
export * from './send.js';
export * from './typing.js';
export * from './upload.js';
