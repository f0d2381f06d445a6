export * from './doorbell.js';
export * from './events.js';
export * from './queue.js';
export * from './reader.js';
export * from './settled-names.js';
export * from './types.js';
