import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderAsyncApiYaml } from './render-asyncapi.js';

const target = fileURLToPath(new URL('../docs/asyncapi.yaml', import.meta.url));
writeFileSync(target, renderAsyncApiYaml());
console.log('wrote docs/asyncapi.yaml');
