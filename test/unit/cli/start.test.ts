import { describe, expect, it } from 'vitest';
import { CliError } from '../../../cli/io.js';
import { genesysFromEnv } from '../../../cli/start.js';

describe('genesysFromEnv (npm start against real Genesys)', () => {
  it('uses the emulator when nothing is set', () => {
    expect(genesysFromEnv({})).toBeUndefined();
  });

  it('builds the endpoint from a region, with the origin when given', () => {
    expect(
      genesysFromEnv({
        GENESYS_DEPLOYMENT_ID: 'dep-1',
        GENESYS_REGION: 'eu_west_1',
        GENESYS_ORIGIN: 'https://shop.example',
      }),
    ).toEqual({
      deploymentId: 'dep-1',
      endpoint: { wsUrl: 'wss://webmessaging.mypurecloud.ie/v1', apiUrl: 'https://api.mypurecloud.ie' },
      origin: 'https://shop.example',
    });
  });

  it('takes any guest-API endpoint from GENESYS_WS_URL and GENESYS_API_URL', () => {
    expect(
      genesysFromEnv({
        GENESYS_DEPLOYMENT_ID: 'd',
        GENESYS_WS_URL: 'ws://127.0.0.1:9/v1',
        GENESYS_API_URL: 'http://127.0.0.1:9',
      }),
    ).toMatchObject({ endpoint: { wsUrl: 'ws://127.0.0.1:9/v1', apiUrl: 'http://127.0.0.1:9' } });
  });

  it('refuses incomplete settings with exit code 2', () => {
    for (const env of [
      { GENESYS_REGION: 'eu_west_1' },
      { GENESYS_DEPLOYMENT_ID: 'd' },
      { GENESYS_DEPLOYMENT_ID: 'd', GENESYS_REGION: 'moon' },
      { GENESYS_DEPLOYMENT_ID: 'd', GENESYS_WS_URL: 'ws://127.0.0.1:9/v1' },
      {
        GENESYS_DEPLOYMENT_ID: 'd',
        GENESYS_WS_URL: 'http://127.0.0.1:9/v1',
        GENESYS_API_URL: 'http://127.0.0.1:9',
      },
    ]) {
      let thrown: unknown;
      try {
        genesysFromEnv(env);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(env)).toBeInstanceOf(CliError);
      expect((thrown as CliError).exitCode).toBe(2);
    }
  });
});
