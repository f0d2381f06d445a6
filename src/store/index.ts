/** The store: DynamoDB access for sessions, transcript, connections and workers, and the table definitions. */
export * from './client.js';
export * from './connections.js';
export * from './cursor.js';
export * from './dynalite.js';
export * from './errors.js';
export * from './item-size.js';
export * from './provision.js';
export * from './sessions.js';
export * from './store-context.js';
export * from './tables.js';
export * from './transcript.js';
export * from './workers.js';
