/**
 * Which files `guest-relay test` runs: a folder expands to the scenario files under it (sorted), a glob
 * to its matches, and every path is printed as the user spelled it, wherever the clone and the temporary
 * folder live. Real files in a temporary folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scenarioFiles } from '../../../cli/scenarios/files.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'guest-relay-files-'));
  const files = [
    'b.yaml',
    'a.yml',
    'nested/c.json',
    'nested/deeper/d.yaml',
    'notes.md',
    '.hidden/e.yaml',
    'node_modules/pkg/f.yaml',
  ];
  for (const file of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), 'scenarios: {}\n');
  }
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'empty', 'readme.txt'), 'no scenarios here\n');
});

describe('scenarioFiles', () => {
  it('expands a folder to every .yaml, .yml and .json file under it, sorted, spelled from the folder as given', async () => {
    expect(await scenarioFiles([dir])).toEqual(
      ['a.yml', 'b.yaml', 'nested/c.json', 'nested/deeper/d.yaml'].map((f) => `${dir}/${f}`),
    );
    expect(await scenarioFiles([`${dir}/`])).toEqual(
      ['a.yml', 'b.yaml', 'nested/c.json', 'nested/deeper/d.yaml'].map((f) => `${dir}/${f}`),
    );
    const dotted = `./${relative(process.cwd(), join(dir, 'nested'))}`;
    expect(await scenarioFiles([dotted])).toEqual([`${dotted}/c.json`, `${dotted}/deeper/d.yaml`]);
  });

  it('keeps a file as given, relative or absolute, and names a file given twice once', async () => {
    const fromCwd = relative(process.cwd(), join(dir, 'b.yaml'));
    expect(await scenarioFiles([fromCwd, join(dir, 'b.yaml')])).toEqual([fromCwd]);
    expect(await scenarioFiles([join(dir, 'b.yaml')])).toEqual([join(dir, 'b.yaml')]);
  });

  it('expands a glob from its plain part as given', async () => {
    expect(await scenarioFiles([`${dir}/**/*.yaml`])).toEqual([
      `${dir}/b.yaml`,
      `${dir}/nested/deeper/d.yaml`,
    ]);
    const fromCwd = relative(process.cwd(), dir);
    expect(await scenarioFiles([`${fromCwd}/*.y*ml`])).toEqual([`${fromCwd}/a.yml`, `${fromCwd}/b.yaml`]);
  });

  it('refuses, all at once and with exit code 2, a missing path, a folder without scenarios, a glob matching nothing', async () => {
    const missing = join(dir, 'missing.yaml');
    const empty = join(dir, 'empty');
    const nothing = join(dir, 'nothing-*.yaml');
    await expect(scenarioFiles([join(dir, 'b.yaml'), missing, empty, nothing])).rejects.toMatchObject({
      exitCode: 2,
      message: [
        `${missing}: no such file or folder`,
        `${empty}: no scenario file (.yaml, .yml, .json) in this folder`,
        `No scenario file matches ${nothing}`,
      ].join('\n'),
    });
  });
});
