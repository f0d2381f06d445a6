export * from './client-frames.js';
export * from './common.js';
export * from './error-codes.js';
export * from './errors.js';
export * from './limits.js';
export * from './parse-client-frame.js';
export * from './serialize.js';
export * from './server-events.js';
