/** The gateway: the management-API client (post, delete, 410 handling) and the local emulator. */
export * from './emulator/index.js';
export * from './errors.js';
export * from './management-client.js';
