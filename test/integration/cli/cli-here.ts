/** `guest-relay` run in this process (faster than a child), with no environment but `env`. */
import { PLAIN } from '../../../cli/io.js';
import { main } from '../../../cli/program.js';

/** What the command printed on each stream, and its exit code. */
export async function cliHere(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args], {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    color: PLAIN,
    env,
    interrupted: () => new Promise(() => {}),
  });
  return { code, out: out.join(''), err: err.join('') };
}

/**
 * The environment of a child `guest-relay`: the developer's, without what would send it elsewhere (real
 * Genesys, a token for another stack).
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', NODE_NO_WARNINGS: '1' };
  for (const key of Object.keys(env)) {
    if (key.startsWith('GENESYS_') || key === 'GUEST_RELAY_TOKEN') delete env[key];
  }
  return env;
}
