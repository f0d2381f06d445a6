import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError, type Io, PLAIN } from '../../../cli/io.js';
import { main } from '../../../cli/program.js';
import { readLine, resolveSecretOptions, type SecretOption } from '../../../cli/secrets.js';
import { verifyAccessToken } from '../../../src/auth/index.js';
import { secretFromString } from '../../../src/auth/secret.js';

const SECRET = 'cli-unit-secret-0123456789abcdef0123456789';
const TOKEN: SecretOption = { key: 'token', flag: '--token', env: 'GUEST_RELAY_TOKEN', required: true };

/** An Io that records what is written (`written.out`, `written.err`), with stdin fed by the test. */
function fakeIo(
  env: Record<string, string> = {},
  stdin?: string,
): Io & { written: { out: string[]; err: string[] } } {
  const written = { out: [] as string[], err: [] as string[] };
  let input: PassThrough | undefined;
  if (stdin !== undefined) {
    input = new PassThrough();
    input.end(stdin);
  }
  return {
    out: (text: string) => {
      written.out.push(text);
    },
    err: (text: string) => {
      written.err.push(text);
    },
    color: PLAIN,
    env,
    interrupted: () => new Promise<string>(() => {}),
    ...(input === undefined ? {} : { input }),
    written,
  };
}

async function thrown(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('resolved');
}

describe('resolveSecretOptions', () => {
  it('takes the secret from the environment, silently', async () => {
    const io = fakeIo({ GUEST_RELAY_TOKEN: ' tok-from-env \n' });
    expect(await resolveSecretOptions({ url: 'u' }, [TOKEN], io)).toEqual({
      url: 'u',
      token: 'tok-from-env',
    });
    expect(io.written.err).toEqual([]);
  });

  it('reads one line from stdin for "-", and warns about nothing', async () => {
    const io = fakeIo({ GUEST_RELAY_TOKEN: 'not-this-one' }, 'tok-from-stdin\r\nnext line\n');
    expect(await resolveSecretOptions({ token: '-' }, [TOKEN], io)).toEqual({ token: 'tok-from-stdin' });
    expect(io.written.err).toEqual([]);
  });

  it('at a terminal, says that it waits for the line, and never repeats it', async () => {
    const io = fakeIo({}, 'tok-typed\n');
    (io.input as PassThrough & { isTTY?: boolean }).isTTY = true;
    expect(await resolveSecretOptions({ token: '-' }, [TOKEN], io)).toEqual({ token: 'tok-typed' });
    expect(io.written.err.join('')).toBe(
      '--token -: paste the value and press Enter (Ctrl-C cancels; GUEST_RELAY_TOKEN saves typing it): ',
    );
  });

  it('reads one line per "-", in the order the options are given', async () => {
    const io = fakeIo({}, 'first\nsecond\n');
    const secret: SecretOption = { key: 'secret', flag: '--secret', env: 'ACCESS_TOKEN_SECRET' };
    expect(await resolveSecretOptions({ token: '-', secret: '-' }, [TOKEN, secret], io)).toEqual({
      token: 'first',
      secret: 'second',
    });
  });

  it('still takes the argument, with a one-line warning that names the safer ways and not the value', async () => {
    const io = fakeIo({ GUEST_RELAY_TOKEN: 'env-loses' });
    expect(await resolveSecretOptions({ token: 'tok-on-argv' }, [TOKEN], io)).toEqual({
      token: 'tok-on-argv',
    });
    expect(io.written.err).toHaveLength(1);
    const warning = io.written.err[0] ?? '';
    expect(warning.trimEnd().split('\n')).toHaveLength(1);
    expect(warning).toMatch(/^warning: --token .*visible to other users.*\(ps/);
    expect(warning).toContain('GUEST_RELAY_TOKEN');
    expect(warning).toContain('"--token -"');
    expect(warning).not.toContain('tok-on-argv');
  });

  it('refuses a missing required secret with exit code 2, naming the flag and the variable', async () => {
    const error = await thrown(resolveSecretOptions({}, [TOKEN], fakeIo()));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/--token.*GUEST_RELAY_TOKEN/);
  });

  it('leaves an optional secret out when nothing gives it', async () => {
    expect(await resolveSecretOptions({ url: 'u' }, [{ ...TOKEN, required: false }], fakeIo())).toEqual({
      url: 'u',
    });
  });

  it('refuses "-" when stdin is empty or not there, without echoing anything read', async () => {
    expect((await thrown(resolveSecretOptions({ token: '-' }, [TOKEN], fakeIo({}, '')))).exitCode).toBe(2);
    expect((await thrown(resolveSecretOptions({ token: '-' }, [TOKEN], fakeIo()))).message).toMatch(/stdin/);
    const long = await thrown(resolveSecretOptions({ token: '-' }, [TOKEN], fakeIo({}, 's'.repeat(70_000))));
    expect(long.message).not.toContain('sss');
  });
});

describe('readLine', () => {
  it('leaves what follows the line for the next reader (chat reads its lines after the token)', async () => {
    const input = new PassThrough();
    input.write('token-line\nhello');
    const line = readLine(input);
    expect(await line).toBe('token-line');
    input.end(' there\n');
    let rest = '';
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      rest += chunk;
    });
    await new Promise((resolve) => input.once('end', resolve));
    expect(rest).toBe('hello there\n');
  });

  it('takes an unterminated last line at the end of the input', async () => {
    const input = new PassThrough();
    input.end('no-newline');
    expect(await readLine(input)).toBe('no-newline');
  });
});

describe('guest-relay token (the program)', () => {
  const mint = async (argv: string[], io: ReturnType<typeof fakeIo>) => {
    expect(await main(argv, io)).toBe(0);
    const token = io.written.out.join('').trim();
    return verifyAccessToken(token, { secret: secretFromString(SECRET), now: Date.now() });
  };

  it('mints with ACCESS_TOKEN_SECRET and prints no warning', async () => {
    const io = fakeIo({ ACCESS_TOKEN_SECRET: SECRET });
    expect(await mint(['token', '--team', 'acme'], io)).toMatchObject({ team: 'acme', role: 'guest' });
    expect(io.written.err).toEqual([]);
  });

  it('mints with --secret - from stdin', async () => {
    const io = fakeIo({}, `${SECRET}\n`);
    expect(await mint(['token', '--secret', '-', '--team', 'ci'], io)).toMatchObject({ team: 'ci' });
    expect(io.written.err).toEqual([]);
  });

  it('mints with --secret <value> too, warning once on stderr (stdout holds only the token)', async () => {
    const io = fakeIo();
    expect(await mint(['token', '--secret', SECRET], io)).toMatchObject({ team: 'local' });
    expect(io.written.err.join('')).toMatch(/^warning: --secret on the command line is visible/);
    expect(io.written.err.join('')).not.toContain(SECRET);
  });

  it('exits 2 without a secret, and never echoes a bad one', async () => {
    const missing = fakeIo();
    expect(await main(['token'], missing)).toBe(2);
    expect(missing.written.err.join('')).toMatch(/missing --secret: set ACCESS_TOKEN_SECRET/);
    const short = fakeIo({ ACCESS_TOKEN_SECRET: 'too-short-a-secret' });
    expect(await main(['token'], short)).toBe(2);
    expect(short.written.err.join('')).toContain('ACCESS_TOKEN_SECRET is too short');
    expect(short.written.err.join('')).not.toContain('too-short-a-secret');
  });

  it('asks chat and transcript for a token the same way, before connecting anywhere', async () => {
    for (const command of [
      ['chat', '--url', 'ws://127.0.0.1:9'],
      ['transcript', '--url', 'ws://127.0.0.1:9', '--session', 's'],
    ]) {
      const io = fakeIo({}, '');
      expect(await main(command, io), command[0]).toBe(2);
      expect(io.written.err.join(''), command[0]).toMatch(
        /missing --token: set GUEST_RELAY_TOKEN, or pass "--token -"/,
      );
    }
  });

  it('documents the environment and stdin in --help', async () => {
    const io = fakeIo();
    expect(await main(['token', '--help'], io)).toBe(0);
    expect(io.written.out.join('')).toMatch(/--secret <secret>.*ACCESS_TOKEN_SECRET.*"--secret -"/s);
  });
});
