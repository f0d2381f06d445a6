/**
 * The web simulator in a real browser (Debian's Chromium through playwright-core) against local mode.
 * Each browser context is one person at one page: its guest pane and, beside it, the agent pane that
 * drives the Genesys emulator. Covered: a whole conversation (typing, quick replies, cards, an
 * attachment, UI state as participant data, receipts, an upstream drop, a dropped guest socket, a
 * reload that resumes); two guests at once, the agent pane acting on the one it shows; every session
 * and error state the page claims; the raw frame console; a stack restart. Screenshots of both panes,
 * wide and narrow, go to test-results/screenshots/ (and to docs/images/ with UPDATE_SCREENSHOTS=1).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../local/stack.js';
import { createManagementSdk, ManagementClient } from '../../src/gateway/management-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) {
  throw new Error(`Chromium is required in CI (${CHROMIUM}); .ci/run installs it with apt-get.`);
}
const SHOTS = 'test-results/screenshots';
const DOC_IMAGES = 'docs/images';

/** What API Gateway does when a connection is deleted: the real management SDK against the emulator. */
async function dropConnection(stack: LocalStack, connectionId: string): Promise<void> {
  const client = new ManagementClient({
    sdk: createManagementSdk({
      endpoint: stack.publicApi.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    connections: { delete: async () => {} },
  });
  await client.delete(connectionId);
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** The guest pane's transcript and the agent pane's, on one page. */
// playwright-core has no web-first assertions (`toHaveText`…): states are polled with expect.poll.
const guestList = (page: Page) => page.locator('#transcript');
const agentList = (page: Page) => page.locator('#agent-transcript');
const agentPane = (page: Page) => page.locator('#agent');

/** Starts a session from the form and waits until Genesys has it (`connected (active)`). */
async function startSession(page: Page, firstName: string): Promise<string> {
  await page.getByLabel('Guest first name').fill(firstName);
  await page.locator('#start-session').click();
  await expect.poll(() => page.locator('#conn-state').textContent()).toBe('connected (active)');
  return (await page.locator('#session-id').textContent()) ?? '';
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.keyboard.press('Enter');
  await guestList(page).locator('li.guest:not([data-status="pending"])', { hasText: text }).waitFor();
}

async function agentSays(page: Page, text: string): Promise<void> {
  await agentPane(page).getByLabel('Reply', { exact: true }).fill(text);
  await agentPane(page).getByRole('button', { name: 'Send as agent' }).click();
}

describe.runIf(available)('web simulator (Chromium)', () => {
  let stack: LocalStack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    stack = await startLocalStack(EMBEDDED);
    browser = await launch();
    mkdirSync(SHOTS, { recursive: true });
  }, 30_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A new person: their own browser context (storage), at the page. */
  async function person(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(stack.pageUrl);
    return page;
  }

  it('holds a whole conversation between the guest pane and the agent pane', async () => {
    const page = await person();

    // Start with guest info; the bot greets after typing (as the bot), with quick replies.
    const sessionId = await startSession(page, 'Ada');
    await page.getByLabel('Message', { exact: true }).fill('hello');
    await page.keyboard.press('Enter');
    await page.locator('#typing', { hasText: 'The bot is typing' }).waitFor({ timeout: 10_000 });
    await guestList(page).locator('li.bot', { hasText: "I'm the Genesys emulator's bot" }).waitFor();
    await guestList(page).locator('li.guest[data-status="sent"]', { hasText: 'hello' }).waitFor();
    await expect
      .poll(() => guestList(page).locator('li.bot time').first().getAttribute('datetime'))
      .toMatch(/^\d{4}-/);

    // A quick reply, answered by the bot with a card; both panes show the card.
    await guestList(page).getByRole('button', { name: 'Show a card' }).first().click();
    await guestList(page).locator('li.guest', { hasText: 'chose: Show a card' }).waitFor();
    await guestList(page).locator('li.bot .card').first().waitFor();

    // The agent pane follows this page's guest: its name, its session, its participant data.
    const acting = page.locator('#agent-acting');
    await expect.poll(() => acting.textContent()).toContain(`Ada · session ${sessionId.slice(0, 8)}`);
    await expect.poll(() => acting.textContent()).toContain('this page’s guest');
    await agentPane(page).locator('#participant-data dt', { hasText: 'firstName' }).waitFor();
    await agentList(page).locator('li.bot .card').first().waitFor();
    await agentList(page).locator('li.guest', { hasText: 'chose: Show a card' }).waitFor();

    // UI state reaches the agent as participant data.
    await page.locator('#context-editor summary').click();
    await page.getByLabel('JSON object').fill('{ "page": "checkout", "cart": { "items": 2 } }');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#context-state', { hasText: 'sent to Genesys' }).waitFor();
    await agentPane(page).locator('#participant-data dd', { hasText: 'checkout' }).waitFor();

    // The agent replies with quick replies (shown on both panes, clickable only on the guest's), types.
    await agentPane(page).getByLabel('Quick replies (comma separated)').fill('Yes, No');
    await agentSays(page, 'Hi Ada, Sam here.');
    await guestList(page).locator('li.agent', { hasText: 'Hi Ada, Sam here.' }).waitFor();
    await expect.poll(() => guestList(page).getByRole('button', { name: 'Yes' }).isEnabled()).toBe(true);
    await expect.poll(() => agentList(page).getByRole('button', { name: 'Yes' }).isDisabled()).toBe(true);
    await agentPane(page).getByRole('button', { name: 'Typing' }).click();
    await page.locator('#typing', { hasText: 'The agent is typing' }).waitFor();

    // Shift+Enter keeps the line break, in both panes.
    await page.getByLabel('Message', { exact: true }).fill('first line');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('second line');
    await page.keyboard.press('Enter');
    const twoLines = guestList(page).locator('li.guest[data-status="sent"] .text', {
      hasText: 'second line',
    });
    expect(await twoLines.innerText()).toBe('first line\nsecond line');
    await expect
      .poll(() => agentList(page).locator('li.guest .text', { hasText: 'second line' }).innerText())
      .toBe('first line\nsecond line');

    // The agent reads: the guest's messages show "read".
    await agentPane(page).getByRole('button', { name: 'Mark read' }).click();
    await guestList(page).locator('li.guest[data-status="read"]', { hasText: 'second line' }).waitFor();
    await expect
      .poll(() => guestList(page).locator('li.guest[data-status="read"] .status').first().textContent())
      .toBe('read');

    // An attachment through the presigned URL, with progress, then sent; an image is a thumbnail.
    await page.setInputFiles('#file', {
      name: 'photo.png',
      mimeType: 'image/png',
      buffer: Buffer.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 0]),
    });
    // Polled, so that a failure shows what the pane said instead (an upload refusal, an HTTP status).
    await expect
      .poll(() => page.locator('#upload-state').textContent(), { timeout: 30_000 })
      .toBe('Uploaded photo.png');
    await guestList(page).locator('li.guest[data-status="sent"]', { hasText: 'photo.png' }).waitFor();
    await agentList(page).locator('li.guest img.thumb[alt="photo.png"]').waitFor();

    // The upstream socket is dropped: the worker reconnects; the conversation carries on.
    await agentPane(page).getByRole('button', { name: 'Drop the upstream socket' }).click();
    await agentPane(page).locator('#fault-state', { hasText: 'Dropped 1 socket' }).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('still there?');
    await page.keyboard.press('Enter');
    await guestList(page)
      .locator('li.guest[data-status="sent"]', { hasText: 'still there?' })
      .waitFor({ timeout: 15_000 });
    await agentSays(page, 'Yes, still here.');
    await guestList(page).locator('li.agent', { hasText: 'Yes, still here.' }).waitFor();

    // The gateway drops the guest's own connection: the pane counts down, reconnects and resumes.
    // In the page (a string: the test's own TypeScript has no DOM types): record every connection state.
    await page.evaluate(`(() => {
      const target = document.getElementById('conn-state');
      window.connStates = [];
      new MutationObserver(() => window.connStates.push(target.textContent)).observe(target, {
        childList: true, characterData: true, subtree: true,
      });
    })()`);
    const [connection] = stack.publicApi.connections();
    await dropConnection(stack, connection?.connectionId as string);
    await expect
      .poll(() => page.evaluate<string>(`window.connStates.join('|')`))
      .toMatch(/reconnecting in [\d.]+ s.*connected/);
    await agentSays(page, 'Welcome back.');
    await guestList(page).locator('li.agent', { hasText: 'Welcome back.' }).waitFor();

    // Reload: the page resumes the same session and replays the transcript in order.
    await page.getByLabel('Show sequence ids').check();
    const before = await guestList(page).locator('li[data-seq]').count();
    await page.reload();
    await expect.poll(() => page.locator('#session-id').textContent()).toBe(sessionId);
    await expect.poll(() => page.getByLabel('Show sequence ids').isChecked()).toBe(true);
    await expect.poll(() => guestList(page).locator('li[data-seq]').count()).toBeGreaterThanOrEqual(before);
    const seqs = await guestList(page)
      .locator('li[data-seq]')
      .evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // Keyboard: the composer is reachable and sends with Enter.
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.type('after reload');
    await page.keyboard.press('Enter');
    await guestList(page).locator('li.guest[data-status="sent"]', { hasText: 'after reload' }).waitFor();
  }, 120_000);

  it('acts, with two guests at once, on the guest the agent pane shows', async () => {
    const ada = await person();
    const bob = await person();
    const adaSession = await startSession(ada, 'Ada');
    const bobSession = await startSession(bob, 'Bob');
    await say(ada, 'I am Ada');
    await say(bob, 'I am Bob');

    // Each page's agent pane follows its own guest.
    await expect
      .poll(() => ada.locator('#agent-acting').textContent())
      .toContain(`Ada · session ${adaSession.slice(0, 8)}`);
    await expect
      .poll(() => bob.locator('#agent-acting').textContent())
      .toContain(`Bob · session ${bobSession.slice(0, 8)}`);
    await agentList(ada).locator('li.guest', { hasText: 'I am Ada' }).waitFor();
    await expect.poll(() => agentList(ada).locator('li.guest', { hasText: 'I am Bob' }).count()).toBe(0);
    await agentPane(ada).locator('#participant-data dd', { hasText: 'Ada' }).waitFor();

    // Ada's page answers Ada; Bob's answers Bob; neither reaches the other.
    await agentSays(ada, 'For Ada only');
    await agentSays(bob, 'For Bob only');
    await guestList(ada).locator('li.agent', { hasText: 'For Ada only' }).waitFor();
    await guestList(bob).locator('li.agent', { hasText: 'For Bob only' }).waitFor();
    await expect.poll(() => guestList(ada).locator('li.agent', { hasText: 'For Bob only' }).count()).toBe(0);
    await expect.poll(() => guestList(bob).locator('li.agent', { hasText: 'For Ada only' }).count()).toBe(0);

    // The options name guests and sessions; picking Bob's on Ada's page stops following and says so.
    const bobOption = agentPane(ada).locator('#agent-session option', {
      hasText: `Bob · session ${bobSession.slice(0, 8)}`,
    });
    await bobOption.waitFor({ state: 'attached' });
    // By value (the Genesys token): the label's message count may change between reading and picking.
    await agentPane(ada)
      .locator('#agent-session')
      .selectOption((await bobOption.getAttribute('value')) ?? '');
    await expect.poll(() => ada.locator('#agent-follow').isChecked()).toBe(false);
    await expect.poll(() => ada.locator('#agent-acting').textContent()).toContain('Bob');
    await expect.poll(() => ada.locator('#agent-acting').textContent()).toContain('another guest');
    await agentList(ada).locator('li.guest', { hasText: 'I am Bob' }).waitFor();
    await agentSays(ada, 'Bob, from the other page');
    await guestList(bob).locator('li.agent', { hasText: 'Bob, from the other page' }).waitFor();
    await expect
      .poll(() => guestList(ada).locator('li.agent', { hasText: 'Bob, from the other page' }).count())
      .toBe(0);

    // Following again returns to this page's guest.
    await ada.locator('#agent-follow').check();
    await expect
      .poll(() => ada.locator('#agent-acting').textContent())
      .toContain(`Ada · session ${adaSession.slice(0, 8)}`);
  }, 90_000);

  it('disables the composer of a read-only session and offers a new one', async () => {
    const page = await person();
    const first = await startSession(page, 'Ada');
    await say(page, 'before the end');
    const token = await page.locator('#agent-acting').getAttribute('data-token');
    stack.emulator?.agent.disconnect(token as string, { readOnly: true });
    await page.locator('#session-banner', { hasText: 'read-only' }).waitFor();
    await expect.poll(() => page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#send').isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#conn-state').textContent()).toBe('connected (read-only)');

    await page.locator('#session-banner').getByRole('button', { name: 'Start a new session' }).click();
    await expect.poll(() => page.locator('#session-id').textContent()).not.toBe(first);
    await expect.poll(() => page.locator('#session-banner').isHidden()).toBe(true);
    await expect.poll(() => page.getByLabel('Message', { exact: true }).isEnabled()).toBe(true);
    await say(page, 'a new start');
  }, 60_000);

  it('says a session ended, disables the composer, and offers a new one', async () => {
    const page = await person();
    await startSession(page, 'Ada');
    await page.getByRole('button', { name: 'End session' }).click();
    await page.locator('#session-banner', { hasText: 'You ended the session.' }).waitFor();
    await expect
      .poll(() => page.locator('#conn-state').textContent())
      .toBe('connected (no session: it ended)');
    await expect.poll(() => page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#session-id').textContent()).toBe('none');
    await expect.poll(() => page.getByRole('button', { name: 'End session' }).isDisabled()).toBe(true);
    await page.reload();
    // Nothing is left to resume: the form shows, Resume is off.
    await expect.poll(() => page.locator('#resume-session').isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#settings').getAttribute('open')).toBe('');
  }, 60_000);

  it('puts an error beside the action that caused it, and clears it when another action succeeds', async () => {
    const page = await person();
    await startSession(page, 'Ada');

    // A blocked file: the upload line says why, not "Asking for an upload slot…".
    await page.setInputFiles('#file', {
      name: 'evil.exe',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('MZ'),
    });
    await page.locator('#upload-error:not([hidden])').waitFor();
    await expect.poll(() => page.locator('#upload-error').textContent()).toContain('attachment_');
    await expect.poll(() => page.locator('#upload-state').textContent()).toBe('');
    await expect.poll(() => page.locator('#send-error').isHidden()).toBe(true);

    // A context over the budget: refused with what it would need; nothing claims it was sent.
    await page.locator('#context-editor summary').click();
    await page.getByLabel('JSON object').fill(JSON.stringify({ note: 'x'.repeat(3000) }));
    await expect
      .poll(() => page.locator('#context-budget').textContent())
      .toContain('about 3004 of 2048 bytes');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#context-error:not([hidden])').waitFor();
    await expect
      .poll(() => page.locator('#context-error').textContent())
      .toMatch(/needs \d{4} bytes, \d+ more than the 2048/);
    await expect
      .poll(() => page.locator('#context-budget').textContent())
      .toMatch(/^needs \d{4} of 2048 bytes$/);
    await expect.poll(() => page.locator('#context-state').textContent()).toBe('');

    // Another action succeeds: the earlier errors are no longer true and go.
    await say(page, 'this one works');
    await expect.poll(() => page.locator('#upload-error').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#context-error').isHidden()).toBe(true);
  }, 60_000);

  it("shows why a message failed under it, not only the failure's code", async () => {
    const page = await person();
    // As text: the test runner would rewrite an `import()` written in a function.
    const shown = await page.evaluate(`(async () => {
      const { entryNode } = await import('./render.js');
      const node = entryNode(
        {
          sequenceId: 7,
          direction: 'guest',
          text: 'are you there?',
          status: 'failed',
          failure: { code: 'upstream_unavailable', message: 'Genesys could not be reached; send it again.' },
        },
        { interactive: false },
      );
      document.body.append(node);
      return {
        status: node.querySelector('.status')?.textContent,
        failure: node.querySelector('.failure')?.textContent,
      };
    })()`);
    expect(shown).toEqual({
      status: 'failed: upstream_unavailable',
      failure: 'Genesys could not be reached; send it again.',
    });
  });

  it('does not start a session when Resume has nothing stored', async () => {
    const page = await person();
    await expect.poll(() => page.locator('#settings').getAttribute('open')).toBe('');
    await expect.poll(() => page.locator('#resume-session').isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#session-id').textContent()).toBe('none');
    await expect.poll(() => page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#agent-acting').isVisible()).toBe(true);
  }, 30_000);

  it('shows every frame in the raw console and sends a frame as typed', async () => {
    const page = await person();
    await startSession(page, 'Ada');
    await page.locator('#raw-console summary').click();
    const log = page.locator('#raw-log');
    await log.locator('li.out', { hasText: '"action":"connect"' }).waitFor();
    await log.locator('li.in', { hasText: '"type":"connect"' }).first().waitFor();
    await page.getByLabel('Frame to send (as typed)').fill('{"action":"ping","nonce":"n-42"}');
    await page.getByRole('button', { name: 'Send frame' }).click();
    await log.locator('li.in', { hasText: '"type":"pong"' }).filter({ hasText: 'n-42' }).waitFor();
    await page.getByLabel('Frame to send (as typed)').fill('not json');
    await page.getByRole('button', { name: 'Send frame' }).click();
    await log.locator('li.in', { hasText: '"code":"invalid_json"' }).waitFor();
    // The page's own error line shows it too: the relay's error had no action to belong to.
    await page.locator('#guest-error', { hasText: 'invalid_json' }).waitFor();
  }, 30_000);

  it('saves screenshots of both panes, wide and narrow', async () => {
    const page = await person({ width: 1280, height: 900 });
    await startSession(page, 'Ada');
    await say(page, 'hello');
    await guestList(page).locator('li.bot', { hasText: "I'm the Genesys emulator's bot" }).waitFor();
    await guestList(page).getByRole('button', { name: 'Show a card' }).first().click();
    await guestList(page).locator('li.bot .card').first().waitFor();
    await agentList(page).locator('li.bot .card').first().waitFor();
    await agentSays(page, 'Hi Ada, Sam here. Anything else?');
    await guestList(page).locator('li.agent', { hasText: 'Anything else?' }).waitFor();
    await agentPane(page).getByRole('button', { name: 'Mark read' }).click();
    await guestList(page).locator('li.guest[data-status="read"]').first().waitFor();
    await page.screenshot({ path: `${SHOTS}/simulator-wide.png`, fullPage: true });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.screenshot({ path: `${SHOTS}/simulator-narrow.png`, fullPage: true });
    // Narrow: the panes stack and nothing is wider than the window.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      for (const name of ['simulator-wide.png', 'simulator-narrow.png'])
        copyFileSync(`${SHOTS}/${name}`, `${DOC_IMAGES}/${name}`);
    }
  }, 60_000);
});

describe.runIf(available)('web simulator across a stack restart (Chromium)', () => {
  let browser: Browser;
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('says the stack is down while it is, then that it restarted and the session is gone', async () => {
    stack = await startLocalStack(EMBEDDED);
    // The next run must answer at the same addresses, as `npm start` does with its fixed ports.
    const ports = {
      port: Number(new URL(stack.pageUrl).port),
      apiPort: Number(new URL(stack.wsUrl).port),
      emulatorPort: Number(new URL(stack.emulatorUrl as string).port),
    };
    const page = await (await browser.newContext()).newPage();
    await page.goto(stack.pageUrl);
    await startSession(page, 'Ada');
    await say(page, 'before the restart');

    await stack.stop();
    stack = undefined;
    await page.locator('#guest-error', { hasText: 'The stack does not answer' }).waitFor();
    await expect.poll(() => page.locator('#conn-state').textContent()).toContain('reconnecting');

    stack = await startLocalStack({ ...EMBEDDED, ...ports });
    await page.locator('#session-banner', { hasText: 'The stack restarted' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
    await page.locator('#session-banner').getByRole('button', { name: 'Start a new session' }).click();
    await expect.poll(() => page.locator('#conn-state').textContent()).toBe('connected (active)');
    await say(page, 'after the restart');
  }, 90_000);
});
