import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { renderAsyncApiYaml } from '../../../scripts/render-asyncapi.js';
import {
  CLIENT_ACTIONS,
  ERROR_CODE_LIST,
  ERROR_CODES,
  SERVER_EVENT_TYPES,
} from '../../../src/protocol/index.js';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('docs/protocol.md', () => {
  const doc = read('docs/protocol.md');

  it.each(CLIENT_ACTIONS)('documents the %s action', (action) => {
    expect(doc).toMatch(new RegExp(`^#{2,4} \`${action}\``, 'm'));
  });

  it.each(SERVER_EVENT_TYPES)('documents the %s event', (type) => {
    expect(doc).toMatch(new RegExp(`^#{2,4} \`${type}\``, 'm'));
  });

  it.each(ERROR_CODE_LIST)(
    'documents the error code %s in the error table, with its retryability',
    (code) => {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `no table row for ${code}`).toBeDefined();
      const cells = (row ?? '').split('|').map((cell) => cell.trim());
      expect(cells[3]).toBe(ERROR_CODES[code].retryable ? 'yes' : 'no');
    },
  );

  it('maps the seed tutorial frames', () => {
    for (const seed of [
      'action: "send"',
      'action: "context"',
      'action: "upload"',
      'readReceipt',
      'type: "connect"',
    ]) {
      expect(doc).toContain(seed);
    }
  });
});

describe('docs/asyncapi.yaml', () => {
  it('is what `npm run docs:asyncapi` generates from the schemas (run it after changing src/protocol)', () => {
    expect(read('docs/asyncapi.yaml')).toBe(renderAsyncApiYaml());
  });

  it('is a valid AsyncAPI document with no warnings', async () => {
    const { document, diagnostics } = await new Parser().parse(read('docs/asyncapi.yaml'));
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    const messages =
      document
        ?.allMessages()
        .all()
        .map((message) => message.id()) ?? [];
    expect(messages).toHaveLength(CLIENT_ACTIONS.length + SERVER_EVENT_TYPES.length);
  });
});
