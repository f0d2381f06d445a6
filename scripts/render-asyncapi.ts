import { stringify } from 'yaml';
import { buildAsyncApiDocument } from './asyncapi.js';

const HEADER = '# Generated from src/protocol by `npm run docs:asyncapi`. Do not edit by hand.\n';

export function renderAsyncApiYaml(): string {
  return HEADER + stringify(buildAsyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
}
