import { routesFromEnv } from './routes.js';

/** The public API's `$disconnect` route (composition in routes.ts, core in src/relay). */
export const handler = routesFromEnv().$disconnect;
