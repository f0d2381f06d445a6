// The guest-relay web simulator: a guest pane speaking the public protocol (docs/protocol.md) and, when
// the stack runs the Genesys emulator, an agent pane driving it over its console API (docs/emulator.md).
// Plain browser JavaScript in a few ES modules, no build step: the folder can be served as it is next
// to any stack.
//
//   app.js      starts the page: configuration, settings, the panes
//   guest.js    the guest pane (session state, the relay's events, the guest's actions)
//   connection.js  its socket: reconnects, the countdown, a stack that is down or restarted
//   backoff.js  the reconnect policy (the relay's: src/domain/backoff.ts)
//   context.js  UI state as custom attributes (the relay's rules: src/domain/context.ts)
//   transcript.js, uploads.js  the guest's transcript and typing line; its file uploads
//   agent.js    the agent pane (the emulator's console API)
//   console.js  the raw frame console
//   render.js   one transcript entry as HTML, for both panes
//   genesys-content.js  Genesys messages in the relay's shape (for the agent pane)
//   dom.js, settings.js, safe-url.js  helpers

import { startAgentPane } from './agent.js';
import { startConsole } from './console.js';
import { $ } from './dom.js';
import { startGuestPane } from './guest.js';
import { loadSettings, loadToken, saveSettings } from './settings.js';

/** `config.json` as the page was served with it (local mode), or null when hosted without one. */
async function readConfig() {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

async function boot() {
  let config = await readConfig();
  const settings = loadSettings();
  // The stack that serves the page knows its own URL and token best; the rest the user chose before.
  $('ws-url').value = config?.wsUrl ?? settings.wsUrl ?? '';
  $('access-token').value = config?.token ?? loadToken() ?? '';
  $('guest-first-name').value = settings.firstName ?? '';
  $('guest-email').value = settings.email ?? '';
  if (typeof settings.contextData === 'string') $('context-data').value = settings.contextData;
  $('show-seq').checked = settings.showSeq === true;
  document.body.classList.toggle('show-seq', $('show-seq').checked);
  $('show-seq').addEventListener('change', () => {
    document.body.classList.toggle('show-seq', $('show-seq').checked);
    saveSettings({ showSeq: $('show-seq').checked });
  });

  const frames = startConsole();
  const guest = startGuestPane({
    frame: frames.record,
    /**
     * After a drop: 'down' (the page's server does not answer), 'restarted' (it answers with another
     * token: a new run of the stack), 'same', or 'unknown' (hosted without config.json).
     */
    async checkStack() {
      if (config === null) return 'unknown';
      const now = await readConfig();
      if (now === null) return 'down';
      if (now.token === config.token) return 'same';
      config = now;
      $('ws-url').value = now.wsUrl;
      $('access-token').value = now.token;
      return 'restarted';
    },
  });
  frames.attach(guest);
  if (config?.emulatorUrl) startAgentPane(config.emulatorUrl, guest, settings);

  // After a reload, carry on with the stored session (its whole transcript is replayed); with nothing
  // stored, show the form that starts one.
  if (!($('ws-url').value && $('access-token').value && guest.resumeStored())) $('settings').open = true;
}

void boot();
