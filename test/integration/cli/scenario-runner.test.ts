/**
 * `guest-relay test`: the examples pass against local mode; every step kind fails with a helpful message
 * when its expectation is not met; scenario files with mistakes are refused with line numbers, the files
 * named as the user named them; bad input exits 2 before anything runs; files naming a real Genesys
 * deployment run on the emulator without leaving this machine; reordered and delayed pushes change
 * nothing; 20 scenarios run 5 at a time and the JUnit report is what CI servers read.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorPlatformApi, ParticipantData } from '../../../cli/scenarios/participant-data.js';
import { runScenario, type Target } from '../../../cli/scenarios/runner.js';
import { parseScenarioFile, type Scenario, ScenarioFileError } from '../../../cli/scenarios/scenario.js';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../../local/stack.js';
import { childEnv, cliHere } from './cli-here.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GUARD = pathToFileURL(
  fileURLToPath(new URL('./scenario-runner-loopback-guard.ts', import.meta.url)),
).href;

/** `guest-relay` in a child process, from the clone's root; `guarded`: only loopback may be contacted. */
function cli(
  args: readonly string[],
  { guarded = false } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const preload = guarded ? ['--import', 'tsx', '--import', GUARD] : ['--import', 'tsx'];
    const child = spawn(process.execPath, [...preload, 'cli/main.ts', ...args], {
      cwd: ROOT,
      env: childEnv(),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code) => resolve({ code, output }));
  });
}

function scenario(yaml: string): Scenario {
  const [first] = parseScenarioFile('inline.yaml', yaml);
  return first as Scenario;
}

/** One scenario with the default bot's greeting first, then `steps` (YAML list items, indented 4). */
function greeted(steps: string, extra = ''): Scenario {
  return scenario(
    `config:\n  stepTimeoutSeconds: 1.5\n${extra}scenarios:\n  "s":\n    - say: hi\n    - waitForReplyContaining: I'm the Genesys emulator's bot\n${steps}`,
  );
}

describe('guest-relay test: the examples and the CLI', () => {
  it('runs the examples folder against a local stack it starts itself, and writes JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-test-'));
    const result = await cli(['test', 'examples', '--json', join(dir, 'report.json')]);
    expect(result.output).toContain('(examples/quick-replies.yaml, ');
    // Every example, the load scenario (examples/load/) included: each runs as a test too.
    expect(result.output).toMatch(/7 passed, 0 failed/);
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      passed: number;
      scenarios: unknown[];
    };
    expect(report.passed).toBe(7);
  }, 90_000);

  it('refuses scenario files with mistakes, naming file, line and column, exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-test-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'config:',
        '  deploymentId: 7d1e7a5c-2f0b-4e0a-9b1c-e6a1a7f0c0de',
        '  colour: blue',
        'scenarios:',
        '  "typos":',
        '    - say: hi',
        '    - waitForReplyContainin: hello',
        '    - waitForReplyMatching: "(unclosed"',
        '    - expectQuickReplies: Yes',
        '    - say: hi',
        '      timeout: -1',
        '',
      ].join('\n'),
    );
    // Named as given: absolute, and relative to the working directory (wherever the clone and the
    // temporary folder are, so the expected text is computed, never written out).
    for (const given of [file, relative(ROOT, file)]) {
      const result = await cli(['test', given]);
      expect(result.code).toBe(2);
      expect(result.output).toContain(`${given}:3:3: config: unknown key "colour"`);
      expect(result.output).toContain(`${given}:7:7: unknown step "waitForReplyContainin"`);
      expect(result.output).toContain(`${given}:8:`);
      expect(result.output).toMatch(/:8:\d+: waitForReplyMatching: not a valid regular expression/);
      expect(result.output).toMatch(/:9:\d+: expectQuickReplies must be a list/);
      expect(result.output).toMatch(/:11:\d+: timeout must be a number of seconds/);
    }
    const none = await cli(['test', join(dir, 'nothing-*.yaml')]);
    expect(none.code).toBe(2);
    expect(none.output).toContain('No scenario file matches');
  }, 30_000);

  it('exits 2 on bad input before anything runs, saying what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-test-'));
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'scenarios:\n  "s":\n    - say: hi\n');
    const cases: [args: string[], says: string][] = [
      [
        ['--url', 'http://127.0.0.1:9/local?token=secret', '--token', 't'],
        '--url must be a ws:// or wss:// URL',
      ],
      [['--url', 'ws://127.0.0.1:9/local'], '--url needs --token'],
      [
        ['--url', 'ws://127.0.0.1:9/local', '--token', 't', '--emulator'],
        "option '--emulator' cannot be used with option '--url",
      ],
      [[join(dir, 'missing.yaml')], `${join(dir, 'missing.yaml')}: no such file or folder`],
      [['--parallel', '0'], "option '-p, --parallel <n>' argument '0' is invalid"],
      [['-t', 'soon'], "option '-t, --timeout <seconds>' argument 'soon' is invalid"],
      [['-id', 'not an id'], "option '--deployment-id <id>' argument 'not an id' is invalid"],
      [['--bogus'], "unknown option '--bogus'"],
    ];
    for (const [args, says] of cases) {
      const result = await cliHere(['test', file, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err, args.join(' ')).toContain(says);
      expect(result.err).not.toContain('secret');
      expect(result.err).not.toContain('Starting a local stack');
      expect(result.out).toBe('');
    }
  });

  it('runs a file naming a real deployment and region on the emulator, contacting only 127.0.0.1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-test-'));
    const file = join(dir, 'real.yaml');
    writeFileSync(
      file,
      [
        'config:',
        '  deploymentId: 0a1b2c3d-0000-4000-8000-00000000abcd',
        '  region: euw2.pure.cloud',
        '  origin: https://shop.example',
        'scenarios:',
        '  "Greeting":',
        '    - say: hi',
        "    - waitForReplyMatching: i'M THE GENESYS EMULATOR'S BOT",
        '',
      ].join('\n'),
    );
    const result = await cli(['test', file, '--emulator'], { guarded: true });
    expect(result.output).toContain('loopback-guard: active');
    expect(result.output).not.toContain('loopback-guard: refused');
    expect(result.output).toContain(
      `--emulator replaces ${file}'s deploymentId 0a1b2c3d-0000-4000-8000-00000000abcd and region euw2.pure.cloud with its deployment `,
    );
    expect(result.output).toContain('1 passed, 0 failed');
    expect(result.code).toBe(0);
  }, 60_000);

  it('the loopback guard refuses any other address before connecting', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        GUARD,
        '-e',
        "require('node:net').connect(9, '127.0.0.2').on('error', (e) => { console.log('error', e.message); })",
      ],
      { cwd: ROOT, env: childEnv() },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(output).toContain('loopback-guard: refused 127.0.0.2');
    expect(output).toContain('error loopback-guard: 127.0.0.2 is not 127.0.0.1 or localhost');
  });

  it('takes the existing testers’ flags: -id, -r, -t, -p and -fo (only failures printed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-test-'));
    const file = join(dir, 'flags.yaml');
    writeFileSync(
      file,
      [
        'scenarios:',
        '  "passes":',
        '    - say: hi',
        "    - waitForReplyContaining: I'm the Genesys emulator's bot",
        '  "fails":',
        '    - say: hi',
        '    - waitForReplyContaining: this never comes',
        '',
      ].join('\n'),
    );
    const result = await cliHere([
      'test',
      file,
      '-id',
      '0a1b2c3d-0000-4000-8000-00000000abcd',
      '-r',
      'euw2.pure.cloud',
      '-t',
      '1.5',
      '-p',
      '2',
      '-fo',
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'No --url: the emulator replaces --deployment-id 0a1b2c3d-0000-4000-8000-00000000abcd and --region euw2.pure.cloud with its deployment ',
    );
    expect(result.out).not.toContain('✓ passes');
    expect(result.out).toContain('✗ fails');
    expect(result.out).toContain('no reply containing "this never comes" within 1.5 s');
    expect(result.out).toContain('1 passed, 1 failed');
  }, 30_000);

  it('runs 20 scenarios 5 at a time and writes a JUnit report CI servers accept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-relay-test-'));
    const lines = ['scenarios:'];
    for (let i = 1; i <= 20; i++) {
      lines.push(
        `  "conversation ${i}":`,
        '    - say: hi',
        "    - waitForReplyContaining: I'm the Genesys emulator's bot",
      );
      lines.push(
        i === 7 ? '    - waitForReplyContaining: this never comes' : '    - say: menu',
        i === 7 ? '      timeout: 1' : '    - waitForReplyContaining: Here is what I can do',
      );
    }
    writeFileSync(join(dir, 'many.yaml'), `${lines.join('\n')}\n`);
    const junitFile = join(dir, 'junit.xml');
    const started = Date.now();
    const result = await cli(['test', join(dir, 'many.yaml'), '--parallel', '5', '--junit', junitFile]);
    const took = Date.now() - started;
    expect(result.code).toBe(1);
    expect(result.output).toContain('19 passed, 1 failed (20 scenarios');
    // Five at a time: far less than 20 one after the other (each takes about 2 s).
    expect(took).toBeLessThan(30_000);
    const xml = readFileSync(junitFile, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => ['testsuite', 'testcase'].includes(name),
    }).parse(xml) as {
      testsuites: { tests: string; failures: string; testsuite: Record<string, unknown>[] };
    };
    // The attributes the JUnit schema (Ant's junit.xsd, which Jenkins, GitLab and others read) requires.
    expect(parsed.testsuites).toMatchObject({ tests: '20', failures: '1' });
    const [suite] = parsed.testsuites.testsuite;
    for (const attribute of [
      'name',
      'tests',
      'failures',
      'errors',
      'time',
      'timestamp',
      'hostname',
      'id',
      'package',
    ]) {
      expect(suite?.[attribute], attribute).toBeDefined();
    }
    expect(suite?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const cases = suite?.testcase as Record<string, unknown>[];
    expect(cases).toHaveLength(20);
    for (const testcase of cases) {
      expect(testcase.name).toEqual(expect.any(String));
      expect(testcase.classname).toEqual(expect.any(String));
      expect(Number(testcase.time)).toBeGreaterThan(0);
    }
    const failed = cases.find((c) => c.name === 'conversation 7') as {
      failure: { message: string; type: string };
    };
    expect(failed.failure.message).toContain('no reply containing "this never comes"');
    expect(failed.failure.type).toBe('ScenarioFailure');
  }, 90_000);
});

describe('guest-relay test: every step kind fails helpfully', () => {
  let stack: LocalStack;
  let target: Target;
  beforeAll(async () => {
    stack = await startLocalStack(EMBEDDED);
    target = {
      url: stack.wsUrl,
      token: stack.token,
      participantData: new ParticipantData(emulatorPlatformApi(stack.emulatorUrl as string)),
    };
  }, 30_000);
  afterAll(() => stack.stop());

  async function failure(s: Scenario, t: Target = target) {
    const result = await runScenario(s, t);
    expect(result.passed).toBe(false);
    return result.failure as NonNullable<typeof result.failure>;
  }

  it('say: a refused message names the code', async () => {
    const f = await failure(greeted(`    - say: ${'x'.repeat(4001)}\n`));
    expect(f.message).toContain('refused with text_too_long');
    expect(f.line).toBe(7);
  });

  it('waitForReplyContaining and waitForReplyMatching: what was awaited, and the transcript around it', async () => {
    const contains = await failure(
      greeted('    - say: menu\n    - waitForReplyContaining: Nothing like this\n'),
    );
    expect(contains.message).toBe('no reply containing "Nothing like this" within 1.5 s');
    expect(contains.transcript.join('\n')).toContain('#4 bot: Here is what I can do:');
    const matching = await failure(greeted('    - say: menu\n    - waitForReplyMatching: /^nothing/i\n'));
    expect(matching.message).toBe('no reply matching /^nothing/i within 1.5 s');
    // A bare pattern is compiled as the existing testers compile it (flags i and m); a literal keeps its own.
    const bare = await failure(greeted('    - say: menu\n    - waitForReplyMatching: ^nothing\n'));
    expect(bare.message).toBe('no reply matching /^nothing/im within 1.5 s');
    const literal = await failure(greeted('    - say: menu\n    - waitForReplyMatching: /^HERE is what/\n'));
    expect(literal.message).toBe('no reply matching /^HERE is what/ within 1.5 s');
  });

  it('waitForReplyMatching: a bare pattern matches whatever the case', async () => {
    const result = await runScenario(
      greeted('    - say: menu\n    - waitForReplyMatching: ^HERE IS WHAT I CAN DO[:.]\n'),
      target,
    );
    expect(result.failure).toBeUndefined();
  });

  it('expectQuickReplies and chooseQuickReply: what was offered instead', async () => {
    const expected = await failure(greeted('    - expectQuickReplies: [Yes, No]\n'));
    expect(expected.message).toMatch(
      /expected quick replies \[Yes, No\], #2 offers \[Show a card, .*Goodbye\]/,
    );
    const chosen = await failure(greeted('    - chooseQuickReply: Maybe\n'));
    expect(chosen.message).toContain('no reply offering the quick reply "Maybe" (offered last: [Show a card');
  });

  it('expectTyping: nobody typed', async () => {
    const f = await failure(greeted('    - expectTyping:\n'));
    expect(f.message).toBe('no typing indicator from the agent or bot within 1.5 s');
  });

  it('setContext: too large for the deployment', async () => {
    const big = `    - setContext:\n        blob: "${'y'.repeat(3000)}"\n`;
    const f = await failure(greeted(big));
    expect(f.message).toContain('setContext: refused with context_too_large');
  });

  it('upload: a type the deployment refuses', async () => {
    const f = await failure(
      greeted(
        '    - upload:\n        filename: tool.exe\n        content: MZ\n        contentType: application/x-msdownload\n',
      ),
    );
    expect(f.message).toMatch(/refused with attachment_(type_not_allowed|extension_blocked)/);
  });

  it('expectParticipantData: which attribute differs, and how', async () => {
    const f = await failure(
      greeted(
        '    - setContext:\n        page: home\n    - expectParticipantData:\n        page: checkout\n        plan: gold\n',
      ),
    );
    expect(f.message).toBe(
      'participant data differs: page is "home", expected "checkout"; plan is missing, expected "gold"',
    );
    const none = await failure(greeted('    - expectParticipantData:\n        page: home\n'), {
      url: target.url,
      token: target.token,
    });
    expect(none.message).toContain('needs Genesys Platform API access');
  });

  it('disconnect: a step that needs the connection says so', async () => {
    const f = await failure(greeted('    - disconnect:\n    - say: are you there?\n'));
    expect(f.message).toContain('not connected (a "disconnect" step without "reconnect")');
  });

  it('reconnect: a stack that refuses the token says so', { timeout: 30_000 }, async () => {
    // A token that lasts for the greeting (a frame after its expiry closes the connection) and has
    // expired before the reconnect: 4 s, plus the authorizer's 5 s clock tolerance.
    const shortLived = { ...target, token: await stack.mintToken('guest', 4) };
    const f = await failure(
      greeted('    - disconnect:\n    - expectNoReplyWithin: 9.5\n    - reconnect:\n'),
      shortLived,
    );
    expect(f.message).toContain('refused the token');
  });

  it('connect: a URL without the stage is a wrong path, said at once', async () => {
    const stageless = new URL(target.url);
    stageless.pathname = '/';
    const f = await failure(greeted(''), { ...target, url: stageless.href });
    expect(f.step).toBe('connect');
    expect(f.message).toContain(`Wrong path: there is no WebSocket API at ${stageless.origin}/ (HTTP 404)`);
    expect(f.message).not.toContain(target.token);
  });

  it('expectNoReplyWithin: the reply that came', async () => {
    const f = await failure(greeted('    - say: menu\n    - expectNoReplyWithin: 1.5\n'));
    expect(f.message).toMatch(/expected no reply within 1\.5 s, got #4 bot: Here is what I can do:/);
  });

  it('a scenario over its own time limit stops there', async () => {
    const f = await failure(
      scenario(
        'scenarios:\n  "slow":\n    timeoutSeconds: 1\n    steps:\n      - say: slow\n      - waitForReplyContaining: That took a while\n        timeout: 10\n',
      ),
    );
    expect(f.message).toBe('the scenario took longer than 1 s');
  });

  it('passes without any added delay when the emulator reorders and delays pushes', async () => {
    stack.emulator?.faults.reorderPushes(3);
    stack.emulator?.faults.delayPushes(250);
    try {
      const result = await runScenario(
        scenario(
          [
            'scenarios:',
            '  "reordered":',
            '    - say: file',
            '    - waitForReplyContaining: Here is your invoice.',
            '    - say: agent',
            '    - waitForReplyContaining: Let me find someone for you',
            "    - waitForReplyContaining: Hi, I'm Alex",
            '',
          ].join('\n'),
        ),
        target,
      );
      expect(result.failure).toBeUndefined();
      expect(result.passed).toBe(true);
    } finally {
      stack.emulator?.faults.reset();
    }
  }, 30_000);

  it('parses the scripted-dialogue format of existing tools unchanged', () => {
    const [first] = parseScenarioFile(
      'legacy.yaml',
      'config:\n  deploymentId: xxxxxxxx-xxxx\n  region: xxxx.pure.cloud\nscenarios:\n  "Accept Survey":\n    - say: hi\n    - waitForReplyContaining: Can we ask you some questions?\n    - say: Yes\n    - waitForReplyMatching: Thank you! Now for the next question[\\.]+\n',
    );
    expect(first).toMatchObject({
      name: 'Accept Survey',
      deploymentId: 'xxxxxxxx-xxxx',
      region: 'xxxx.pure.cloud',
    });
    expect(first?.steps.map((s) => s.step.kind)).toEqual([
      'say',
      'waitForReplyContaining',
      'say',
      'waitForReplyMatching',
    ]);
    expect(() => parseScenarioFile('x.yaml', 'scenarios: {}\n')).toThrow(ScenarioFileError);
  });
});
