import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { code, importedSpecifiers, sourceFiles } from './imports.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const configDir = join(root, 'src/config');

/**
 * src/config is what every area's loader builds on, entry points included (lambdas/, worker/, local/,
 * cli/): it imports Node's built-ins and itself only, so it can never pull an entry point, or an area,
 * into another.
 */
function isAllowed(fromFile: string, specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  if (!specifier.startsWith('.')) return false;
  return !relative(configDir, join(fromFile, '..', specifier)).startsWith('..');
}

describe('src/config layering', () => {
  const files = sourceFiles(configDir);

  it('has modules to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((file) => [relative(root, file), file]))(
    '%s imports nothing of ours outside src/config',
    (_, file) => {
      const outside = importedSpecifiers(code(readFileSync(file, 'utf8'))).filter((s) => !isAllowed(file, s));
      expect(outside).toEqual([]);
    },
  );

  it('flags an import of an entry point or an area', () => {
    const file = join(configDir, 'fake.ts');
    expect(isAllowed(file, '../../worker/config.js')).toBe(false);
    expect(isAllowed(file, '../relay/config.js')).toBe(false);
    expect(isAllowed(file, 'zod')).toBe(false);
    expect(isAllowed(file, './errors.js')).toBe(true);
    expect(isAllowed(file, 'node:crypto')).toBe(true);
  });
});
