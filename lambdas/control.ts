import { createControlHandler } from '../src/control/index.js';

/** Every route of the control API ($connect, $disconnect, register, ping, $default): see src/control. */
export const handler = createControlHandler();
