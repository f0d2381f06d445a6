import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const domainDir = join(root, 'src/domain');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, statically or dynamically. */
function importedSpecifiers(source: string): string[] {
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[\w*{}\s,$]+\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''));
}

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

/** Strips comments so that prose about `process.env` in a doc comment does not count. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
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
      const source = code(readFileSync(file, 'utf8'));
      const found = forbiddenGlobals.filter(([pattern]) => pattern.test(source)).map(([, why]) => why);
      expect(found).toEqual([]);
    },
  );
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
