export * from './doorbell.js';
export * from './events.js';
export * from './queue.js';
export * from './reader.js';
export * from './settlements.js';
export * from './types.js';
