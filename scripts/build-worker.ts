/**
 * `npm run build:worker`: the worker as one file for its container (worker/Dockerfile), with every
 * dependency inside (the image has no node_modules and no AWS SDK of its own).
 */
import { build } from 'esbuild';

const result = await build({
  entryPoints: ['worker/main.ts'],
  outfile: 'dist/worker/main.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: true,
  metafile: true,
  // ESM output with CommonJS dependencies inside needs `require`.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).find((output) => output.entryPoint)?.bytes ?? 0;
console.log(`dist/worker/main.mjs: ${(bytes / 1024).toFixed(0)} KB`);
