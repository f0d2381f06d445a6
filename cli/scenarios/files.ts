/**
 * The scenario files that `guest-relay test` arguments name: a file, a folder (every .yaml, .yml and
 * .json file under it, as test runners expand a folder), or a glob. Every path is spelled as the user
 * spelled it (`./tests/a.yaml`, `../x/a.yaml`, `/abs/a.yaml`), never made relative to the working
 * directory or absolute: reports and error positions name files the way the user named them.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { CliError } from '../io.js';

export const SCENARIO_EXTENSIONS: readonly string[] = ['yaml', 'yml', 'json'];

/** `base` + `/` + `relative`, keeping `base` as written (`path.join` would drop a leading `./`). */
function under(base: string, relative: string): string {
  return base.endsWith('/') ? `${base}${relative}` : `${base}/${relative}`;
}

/** Files under `root` matching `pattern`, sorted, each spelled from `root` as given. */
async function matches(root: string, pattern: string): Promise<string[]> {
  const found = await glob([pattern], {
    cwd: root === '' ? '.' : root,
    onlyFiles: true,
    expandDirectories: false,
    ignore: ['**/node_modules/**'],
  });
  return found.sort().map((file) => (root === '' ? file : under(root, file)));
}

/** Splits a glob where it stops being a plain path: `../tests/**\/*.yaml` → [`../tests`, `**\/*.yaml`]. */
function splitGlob(pattern: string): [root: string, rest: string] {
  const segments = pattern.split('/');
  const first = segments.findIndex((segment) => isDynamicPattern(segment));
  const root = segments.slice(0, first).join('/');
  // `/*.yaml`: the root is the file-system root, whose one segment is empty.
  return [first > 0 && root === '' ? '/' : root, segments.slice(first).join('/')];
}

/**
 * The files, in sorted order, each once (the first spelling of a file named twice). Problems (a path
 * that does not exist, a folder without scenario files, a glob that matches nothing) are all reported
 * at once. @throws CliError (exit code 2)
 */
export async function scenarioFiles(patterns: readonly string[]): Promise<string[]> {
  const files = new Map<string, string>();
  const problems: string[] = [];
  for (const pattern of patterns) {
    const stats = await stat(pattern).catch(() => undefined);
    let found: string[];
    if (stats?.isFile()) {
      found = [pattern];
    } else if (stats?.isDirectory()) {
      found = await matches(pattern, `**/*.{${SCENARIO_EXTENSIONS.join(',')}}`);
      if (found.length === 0)
        problems.push(
          `${pattern}: no scenario file (${SCENARIO_EXTENSIONS.map((e) => `.${e}`).join(', ')}) in this folder`,
        );
    } else if (isDynamicPattern(pattern)) {
      found = await matches(...splitGlob(pattern));
      if (found.length === 0) problems.push(`No scenario file matches ${pattern}`);
    } else {
      found = [];
      problems.push(`${pattern}: no such file or folder`);
    }
    for (const file of found) {
      const key = resolve(file);
      if (!files.has(key)) files.set(key, file);
    }
  }
  if (problems.length > 0) throw new CliError(problems.join('\n'), 2);
  return [...files.values()].sort();
}
