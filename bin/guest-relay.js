#!/usr/bin/env node
// The package's bin: runs the TypeScript CLI through tsx's loader (no build step). The first import
// quiets the AWS SDK's Node-version warning unless the user asked for it (local/sdk-warning.js).
import '../local/sdk-warning.js';
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
