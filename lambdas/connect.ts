import { routesFromEnv } from './routes.js';

/** The public API's `connect` route (composition in routes.ts, core in src/relay). */
export const handler = routesFromEnv().connect;
