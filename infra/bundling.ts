/**
 * How every handler of `lambdas/` is bundled (esbuild through NodejsFunction). Plain values with no CDK
 * import, so that bench/bundles.ts builds the very bundles infra/ deploys and measures them.
 */
export const BUNDLING = Object.freeze({
  minify: true,
  sourceMap: true,
  target: 'node22',
  /** The Node 22 Lambda runtime provides the AWS SDK v3. */
  externalModules: Object.freeze(['@aws-sdk/*']),
  /** ESM output with CommonJS dependencies (ws; middy's core is ESM, some are not) needs `require`. */
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
});
