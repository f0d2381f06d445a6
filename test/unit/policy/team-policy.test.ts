import { describe, expect, it } from 'vitest';
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_QUOTAS,
  DeploymentRefusal,
  TeamPolicy,
  TeamPolicyError,
} from '../../../src/policy/team-policy.js';

const DEP = '11111111-1111-4111-8111-111111111111';

describe('TeamPolicy', () => {
  const policy = TeamPolicy.from({
    defaults: { quotas: { openSessionsPerSubject: 5 }, idleTimeoutSeconds: 600 },
    teams: {
      blue: {
        deployments: [{ id: DEP, region: 'eu_west_1' }, { id: 'emulated' }],
        quotas: { startsPerMinutePerTeam: 7 },
      },
      '*': { deployments: [{ id: 'shared-demo' }], idleTimeoutSeconds: 60 },
    },
  });

  it('resolves a listed deployment to its region domain, and the first one when none is named', () => {
    expect(policy.resolve('blue', { deploymentId: DEP })).toEqual({
      deploymentId: DEP,
      regionDomain: 'mypurecloud.ie',
    });
    expect(policy.resolve('blue', { deploymentId: DEP, region: 'mypurecloud.ie' })).toEqual({
      deploymentId: DEP,
      regionDomain: 'mypurecloud.ie',
    });
    expect(policy.resolve('blue', {})).toEqual({ deploymentId: DEP, regionDomain: 'mypurecloud.ie' });
    expect(policy.resolve('blue', { deploymentId: 'emulated' })).toEqual({ deploymentId: 'emulated' });
  });

  it('refuses unlisted deployments, other regions, unknown regions and a region for an endpoint-bound one', () => {
    expect(() => policy.resolve('blue', { deploymentId: 'other' })).toThrow(DeploymentRefusal);
    expect(() => policy.resolve('blue', { deploymentId: DEP, region: 'mypurecloud.de' })).toThrow(
      /only on mypurecloud\.ie/,
    );
    expect(() => policy.resolve('blue', { deploymentId: DEP, region: 'attacker.net' })).toThrow(
      /not a known Genesys region/,
    );
    expect(() => policy.resolve('blue', { deploymentId: 'emulated', region: 'eu_west_1' })).toThrow(
      /configured endpoint/,
    );
  });

  it('applies "*" to teams without an entry, and merges quotas: defaults, then the team', () => {
    expect(policy.resolve('green', {})).toEqual({ deploymentId: 'shared-demo' });
    expect(policy.forTeam('green').idleTimeoutMs).toBe(60_000);
    expect(policy.forTeam('blue').idleTimeoutMs).toBe(600_000);
    expect(policy.forTeam('blue').quotas).toEqual({
      ...DEFAULT_QUOTAS,
      openSessionsPerSubject: 5,
      startsPerMinutePerTeam: 7,
    });
    expect(policy.allows('blue', DEP, 'mypurecloud.ie')).toBe(true);
    expect(policy.allows('blue', DEP, undefined)).toBe(false);
    expect(policy.allows('green', DEP, 'mypurecloud.ie')).toBe(false);
  });

  it('allows nothing without a policy, and says who can change that', () => {
    const none = TeamPolicy.fromEnv({});
    expect(() => none.resolve('blue', {})).toThrow(/operator lists none for it/);
    expect(none.forTeam('blue').quotas).toEqual(DEFAULT_QUOTAS);
    expect(none.forTeam('blue').idleTimeoutMs).toBe(DEFAULT_IDLE_TIMEOUT_SECONDS * 1000);
  });

  it('refuses a malformed policy naming the entry, never silently', () => {
    for (const bad of [
      '{',
      '{"teams":{"Blue!":{}}}',
      '{"teams":{"blue":{"deployments":[{"id":"x y"}]}}}',
      '{"teams":{"blue":{"deployments":[{"id":"d","region":"attacker.net"}]}}}',
      '{"teams":{"blue":{"quotas":{"openSessionsPerSubject":-1}}}}',
      '{"teams":{"blue":{"unknown":1}}}',
    ]) {
      expect(() => TeamPolicy.fromEnv({ TEAM_POLICY: bad }), bad).toThrow(TeamPolicyError);
    }
    expect(() =>
      TeamPolicy.fromEnv({ TEAM_POLICY: '{"teams":{"blue":{"deployments":[{"id":"x y"}]}}}' }),
    ).toThrow(/teams\.blue\.deployments\.0\.id/);
  });

  it('gives its document back: read again (as TEAM_POLICY), it is the same policy', () => {
    const again = TeamPolicy.fromEnv({ TEAM_POLICY: JSON.stringify(policy) });
    expect(again.toJSON()).toEqual(policy.toJSON());
    for (const team of ['blue', 'green']) expect(again.forTeam(team)).toEqual(policy.forTeam(team));
    expect(TeamPolicy.none().toJSON()).toEqual({ teams: {} });
    // A copy: changing it changes nothing.
    const document = policy.toJSON();
    document.teams = {};
    expect(policy.toJSON().teams).toHaveProperty('blue');
  });
});
