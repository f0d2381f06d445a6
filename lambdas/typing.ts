import { routesFromEnv } from './routes.js';

/** The public API's `typing` route (composition in routes.ts, core in src/relay). */
export const handler = routesFromEnv().typing;
