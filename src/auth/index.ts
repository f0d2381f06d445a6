export * from './authorizer.js';
export * from './config.js';
export * from './errors.js';
export * from './secret.js';
export * from './secrets-manager.js';
export * from './tokens.js';
