/**
 * `guest-relay test`'s decisions on its command line: the two-letter flags of the existing scenario
 * testers, bare patterns compiled as those tools compile them, which stack runs the scenarios, and what
 * the overrides and the emulator replace in every file.
 */
import { describe, expect, it } from 'vitest';
import { expandTestAliases } from '../../../cli/scenarios/legacy-flags.js';
import { parseRegex, parseScenarioFile, type Scenario } from '../../../cli/scenarios/scenario.js';
import {
  chooseStack,
  hasGenesysEnvironment,
  onEmulator,
  withOverrides,
} from '../../../cli/scenarios/target.js';

describe('expandTestAliases', () => {
  it('reads -id and -fo as --deployment-id and --failures-only after "test"', () => {
    expect(expandTestAliases(['test', 'a.yaml', '-id', 'abc-1', '-r', 'mypurecloud.ie', '-fo'])).toEqual([
      'test',
      'a.yaml',
      '--deployment-id',
      'abc-1',
      '-r',
      'mypurecloud.ie',
      '--failures-only',
    ]);
  });

  it('leaves other commands, arguments after --, and look-alikes alone', () => {
    expect(expandTestAliases(['chat', '-id'])).toEqual(['chat', '-id']);
    expect(expandTestAliases(['test', '--', '-id'])).toEqual(['test', '--', '-id']);
    expect(expandTestAliases(['test', '-idx', '-f', 'constructor', 'toString'])).toEqual([
      'test',
      '-idx',
      '-f',
      'constructor',
      'toString',
    ]);
  });
});

describe('parseRegex', () => {
  it('compiles a bare pattern as the existing testers do: case-insensitive and multi-line', () => {
    const bare = parseRegex('^thank you[.]+');
    expect(bare.flags).toBe('im');
    expect(bare.test('Your answer is saved.\nThank you...')).toBe(true);
  });

  it('keeps a /pattern/flags literal as written', () => {
    expect(parseRegex('/^Thank you/').flags).toBe('');
    expect(parseRegex('/^Thank you/').test('thank you')).toBe(false);
    expect(parseRegex('/^thank you/s').flags).toBe('s');
  });
});

describe('chooseStack', () => {
  it('runs on the emulator without --url and without a Genesys environment', () => {
    expect(chooseStack({}, {})).toEqual({ kind: 'emulator', explicit: false });
    // GENESYS_REGION alone is the participant-data client's region, not a Genesys to run against.
    expect(chooseStack({}, { GENESYS_REGION: 'eu_west_1' })).toEqual({ kind: 'emulator', explicit: false });
    expect(
      chooseStack({ emulator: true }, { GENESYS_DEPLOYMENT_ID: 'd-1', GENESYS_REGION: 'eu_west_1' }),
    ).toEqual({
      kind: 'emulator',
      explicit: true,
    });
  });

  it('puts a local stack in front of the Genesys the environment names, with --origin', () => {
    const env = { GENESYS_DEPLOYMENT_ID: 'd-1', GENESYS_REGION: 'mypurecloud.ie' };
    expect(hasGenesysEnvironment(env)).toBe(true);
    expect(chooseStack({ origin: 'https://shop.example' }, env)).toMatchObject({
      kind: 'genesys',
      genesys: { deploymentId: 'd-1', origin: 'https://shop.example' },
    });
  });

  it('refuses a --url that is not ws(s), without repeating it (it may hold a token)', () => {
    expect(() => chooseStack({ url: 'http://127.0.0.1:3001/local?token=secret' }, {})).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringContaining('ws:// or wss://') }),
    );
    expect(() => chooseStack({ url: 'http://127.0.0.1:3001/local?token=secret' }, {})).not.toThrow(/secret/);
    expect(() => chooseStack({ url: 'not a url' }, {})).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => chooseStack({ url: 'ws://127.0.0.1:1/local', emulator: true }, {})).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
    expect(chooseStack({ url: 'wss://127.0.0.1:1/live' }, { GENESYS_DEPLOYMENT_ID: 'd-1' })).toEqual({
      kind: 'url',
      url: 'wss://127.0.0.1:1/live',
    });
  });
});

function scenarios(file: string, yaml: string): Scenario[] {
  return parseScenarioFile(file, yaml);
}

const REAL = scenarios(
  'tests/real.yaml',
  [
    'config:',
    '  deploymentId: 0a1b2c3d-0000-4000-8000-00000000abcd',
    '  region: euw2.pure.cloud',
    '  stepTimeoutSeconds: 20',
    'scenarios:',
    '  "one":',
    '    - say: hi',
    '      timeout: 3',
    '  "two":',
    '    region: mypurecloud.ie',
    '    steps:',
    '      - say: hi',
    '',
  ].join('\n'),
);

describe('withOverrides', () => {
  it('replaces every scenario’s deployment, region and step timeout; a step’s own timeout stays', () => {
    const [one, two] = withOverrides(REAL, {
      deploymentId: 'd-2',
      region: 'usw2.pure.cloud',
      stepTimeoutMs: 5000,
    });
    expect(one).toMatchObject({ deploymentId: 'd-2', region: 'usw2.pure.cloud', stepTimeoutMs: 5000 });
    expect(two).toMatchObject({ deploymentId: 'd-2', region: 'usw2.pure.cloud', stepTimeoutMs: 5000 });
    expect(one?.steps[0]?.timeoutMs).toBe(3000);
    expect(withOverrides(REAL, {})).toEqual(REAL);
  });
});

describe('onEmulator', () => {
  it('runs every scenario on the emulator’s deployment, with one line per file that named another', () => {
    const plain = scenarios('tests/plain.yaml', 'scenarios:\n  "p":\n    - say: hi\n');
    const { scenarios: placed, notices } = onEmulator([...REAL, ...plain], 'emu-1', {}, true);
    for (const scenario of placed) {
      expect(scenario.deploymentId).toBe('emu-1');
      expect(scenario.region).toBeUndefined();
    }
    expect(notices).toEqual([
      "--emulator replaces tests/real.yaml's deploymentId 0a1b2c3d-0000-4000-8000-00000000abcd and region euw2.pure.cloud, mypurecloud.ie with its deployment emu-1.",
    ]);
  });

  it('says once that it replaces --deployment-id and --region', () => {
    const flagged = withOverrides(REAL, { deploymentId: 'd-2', region: 'usw2.pure.cloud' });
    const { notices } = onEmulator(
      flagged,
      'emu-1',
      { deploymentId: 'd-2', region: 'usw2.pure.cloud' },
      false,
    );
    expect(notices).toEqual([
      'No --url: the emulator replaces --deployment-id d-2 and --region usw2.pure.cloud with its deployment emu-1.',
    ]);
  });

  it('says nothing when a file already names the emulator’s deployment', () => {
    const same = scenarios(
      'tests/same.yaml',
      'config:\n  deploymentId: emu-1\nscenarios:\n  "s":\n    - say: hi\n',
    );
    expect(onEmulator(same, 'emu-1', {}, true).notices).toEqual([]);
  });
});
