import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { code, importedSpecifiers, sourceFiles } from './imports.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const domainDir = join(root, 'src/domain');

/** A specifier is allowed only if it stays inside src/domain. */
function isAllowed(fromFile: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const target = join(fromFile, '..', specifier);
  return !relative(domainDir, target).startsWith('..');
}

const forbiddenGlobals: [RegExp, string][] = [
  [/\bprocess\s*\.\s*env\b/, 'reads process.env'],
  [/\bprocess\s*\[/, 'reads process'],
  [/\bDate\s*\.\s*now\s*\(/, 'reads the system clock (Date.now)'],
  [/\bnew\s+Date\s*\(\s*\)/, 'reads the system clock (new Date())'],
  [/\bperformance\s*\.\s*now\s*\(/, 'reads the system clock (performance.now)'],
  [/\bfetch\s*\(/, 'does network I/O (fetch)'],
  [/\bnew\s+WebSocket\s*\(/, 'opens a socket'],
];

// The one exception: clock.ts defines `systemClock`, the real clock that entry points inject (one copy
// instead of one per entry point). Only that object's text is skipped, and no other domain module may use
// it, so domain functions still take a Clock or `now` and stay replayable with a fake clock.
const CLOCK_FILE = join(domainDir, 'clock.ts');
const SYSTEM_CLOCK = /export const systemClock: Clock = Object\.freeze\(\{[^}]*\}\);/;

/** The code the env/clock/network rule applies to: `code(source)`, minus the allowed exception. */
function checkedCode(file: string, source: string): string {
  const text = code(source);
  return file === CLOCK_FILE ? text.replace(SYSTEM_CLOCK, '') : text;
}

describe('src/domain purity', () => {
  const files = sourceFiles(domainDir);

  it('has modules to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((file) => [relative(root, file), file]))(
    '%s imports nothing outside src/domain',
    (_, file) => {
      const source = code(readFileSync(file, 'utf8'));
      const outside = importedSpecifiers(source).filter((specifier) => !isAllowed(file, specifier));
      expect(outside).toEqual([]);
    },
  );

  it.each(files.map((file) => [relative(root, file), file]))(
    '%s reads no env, clock or network',
    (_, file) => {
      const source = checkedCode(file, readFileSync(file, 'utf8'));
      const found = forbiddenGlobals.filter(([pattern]) => pattern.test(source)).map(([, why]) => why);
      expect(found).toEqual([]);
    },
  );

  it('allows the system clock only as the systemClock object of clock.ts, used by no domain module', () => {
    expect(code(readFileSync(CLOCK_FILE, 'utf8'))).toMatch(SYSTEM_CLOCK);
    const users = files
      .filter((file) => file !== CLOCK_FILE)
      .filter((file) => /\bsystemClock\b/.test(code(readFileSync(file, 'utf8'))));
    expect(users.map((file) => relative(root, file))).toEqual([]);
  });
});

describe('domain purity checks themselves', () => {
  it('flags the imports and globals the rule is about', () => {
    const fakeFile = join(domainDir, 'fake.ts');
    const bad = [
      "import WebSocket from 'ws';",
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "import { createServer } from 'node:net';",
      "import http from 'node:http';",
      "import * as fs from 'node:fs';",
      "export { x } from '../protocol/index.js';",
      "const m = await import('node:fs');",
    ].join('\n');
    expect(importedSpecifiers(bad).filter((s) => !isAllowed(fakeFile, s))).toHaveLength(7);
    expect(
      importedSpecifiers("import { a } from './utf8.js';").filter((s) => !isAllowed(fakeFile, s)),
    ).toEqual([]);
    const globals = 'const a = process.env.X; const b = Date.now(); const c = new Date();';
    expect(forbiddenGlobals.filter(([p]) => p.test(code(globals)))).toHaveLength(3);
    expect(forbiddenGlobals.filter(([p]) => p.test(code('// process.env is not read here')))).toHaveLength(0);
  });
});
