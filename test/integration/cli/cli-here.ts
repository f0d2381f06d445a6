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
