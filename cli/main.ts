/** Entry point of the `guest-relay` command (see program.ts). */
import { processIo } from './io.js';
import { main } from './program.js';

const io = processIo();
const code = await main(process.argv.slice(2), io);
if (code !== 0) process.exit(code);
