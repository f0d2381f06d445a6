export * from './handlers.js';
export * from './messages.js';
