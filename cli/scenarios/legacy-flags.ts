/**
 * The two-letter short flags of the existing Web Messaging scenario testers (`-id`, `-fo`), so that their
 * command lines run unchanged. Commander reads only one-letter short flags (`-id` would be `-i -d`), so
 * they are rewritten to their long names before parsing.
 */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['-id', '--deployment-id'],
  ['-fo', '--failures-only'],
]);

/**
 * `argv` (without node and the script) with the aliases of the `test` command spelled out: only after
 * `test`, only whole arguments, never after `--` (which ends the options).
 */
export function expandTestAliases(argv: readonly string[]): string[] {
  if (argv[0] !== 'test') return [...argv];
  const end = argv.indexOf('--');
  return argv.map((arg, index) => (index > 0 && (end < 0 || index < end) ? (ALIASES.get(arg) ?? arg) : arg));
}
