/**
 * The web simulator in a real browser (Debian's Chromium through playwright-core) against local mode:
 * one browser context is the guest, another the agent. A whole conversation: typing, a quick reply, an
 * attachment, UI state that the agent pane shows as participant data, an upstream drop the guest rides
 * out, and a resume after reloading the guest page. Screenshots of both panes are saved under
 * test-results/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED, type LocalStack, startLocalStack } from '../../local/stack.js';
import { createManagementSdk, ManagementClient } from '../../src/gateway/management-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) {
  throw new Error(`Chromium is required in CI (${CHROMIUM}); .ci/run installs it with apt-get.`);
}
const SHOTS = 'test-results/screenshots';

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

describe.runIf(available)('web simulator (Chromium)', () => {
  let stack: LocalStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startLocalStack(EMBEDDED);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const guestLines = (page: Page) => page.locator('#transcript li');

  it('holds a whole conversation between the guest pane and the agent pane', async () => {
    const guestContext = await browser.newContext();
    const agentContext = await browser.newContext();
    const guest = await guestContext.newPage();
    const agent = await agentContext.newPage();
    await guest.goto(stack.pageUrl);
    await agent.goto(stack.pageUrl);

    // Start with guest info; the bot greets after typing, with quick replies.
    await guest.getByLabel('Guest first name').fill('Ada');
    await guest.getByRole('button', { name: 'Start a new session' }).click();
    await expect.poll(() => guest.locator('#session-id').textContent()).not.toBe('none');
    await guest.getByLabel('Message', { exact: true }).fill('hello');
    await guest.keyboard.press('Enter');
    await guest.locator('#typing:not([hidden])').waitFor({ timeout: 10_000 });
    await guest.locator('#transcript li.bot', { hasText: "I'm the Genesys emulator's bot" }).waitFor();
    await guest.locator('#transcript li.guest[data-status="sent"]', { hasText: 'hello' }).waitFor();

    // A quick reply, answered by the bot.
    await guest.getByRole('button', { name: 'Show a card' }).first().click();
    await guest.locator('#transcript li.guest', { hasText: 'chose: Show a card' }).waitFor();
    await guest.locator('#transcript li.bot .card').first().waitFor();

    // The agent picks the conversation, sees the guest's info and state, and replies.
    await agent.getByRole('button', { name: 'Refresh' }).click();
    await agent.locator('#participant-data dt', { hasText: 'firstName' }).waitFor();
    await guest.locator('#context-editor summary').click();
    await guest.getByLabel('JSON object').fill('{ "page": "checkout", "cart": { "items": 2 } }');
    await guest.getByRole('button', { name: 'Apply' }).click();
    await guest.locator('#context-state', { hasText: 'sent to Genesys' }).waitFor();
    await agent.getByRole('button', { name: 'Refresh' }).click();
    await agent.locator('#participant-data dd', { hasText: 'checkout' }).waitFor();

    await agent.getByLabel('Reply', { exact: true }).fill('Hi Ada, Sam here.');
    await agent.getByLabel('Quick replies (comma separated)').fill('Yes, No');
    await agent.getByRole('button', { name: 'Send as agent' }).click();
    await guest.locator('#transcript li.agent', { hasText: 'Hi Ada, Sam here.' }).waitFor();
    await guest.getByRole('button', { name: 'Yes' }).waitFor();
    await agent.getByRole('button', { name: 'Typing' }).click();
    await guest.locator('#typing', { hasText: 'agent is typing' }).waitFor();

    // An attachment through the presigned URL, with progress, then sent.
    await guest.setInputFiles('#file', {
      name: 'photo.png',
      mimeType: 'image/png',
      buffer: Buffer.from([137, 80, 78, 71, 1, 2, 3]),
    });
    // Polled, so that a failure shows what the pane said instead (an upload refusal, an HTTP status).
    await expect
      .poll(() => guest.locator('#upload-state').textContent(), { timeout: 30_000 })
      .toBe('Uploaded photo.png');
    await guest.locator('#transcript li.guest[data-status="sent"] a', { hasText: 'photo.png' }).waitFor();

    // The upstream socket is dropped: the worker reconnects; the conversation carries on.
    await agent.getByRole('button', { name: 'Drop the upstream socket' }).click();
    await agent.locator('#fault-state', { hasText: 'Dropped 1 socket' }).waitFor();
    await guest.getByLabel('Message', { exact: true }).fill('still there?');
    await guest.keyboard.press('Enter');
    await guest
      .locator('#transcript li.guest[data-status="sent"]', { hasText: 'still there?' })
      .waitFor({ timeout: 15_000 });
    await agent.getByLabel('Reply', { exact: true }).fill('Yes, still here.');
    await agent.getByRole('button', { name: 'Send as agent' }).click();
    await guest.locator('#transcript li.agent', { hasText: 'Yes, still here.' }).waitFor();

    // The gateway drops the guest's own connection: the pane counts down, reconnects and resumes.
    // In the page (a string: the test's own TypeScript has no DOM types): record every connection state.
    await guest.evaluate(`(() => {
      const target = document.getElementById('conn-state');
      window.connStates = [];
      new MutationObserver(() => window.connStates.push(target.textContent)).observe(target, {
        childList: true, characterData: true, subtree: true,
      });
    })()`);
    const [connection] = stack.publicApi.connections();
    await dropConnection(stack, connection?.connectionId as string);
    await expect
      .poll(() => guest.evaluate<string>(`window.connStates.join('|')`))
      .toMatch(/reconnecting in [\d.]+ s.*connected/);
    await agent.getByLabel('Reply', { exact: true }).fill('Welcome back.');
    await agent.getByRole('button', { name: 'Send as agent' }).click();
    await guest.locator('#transcript li.agent', { hasText: 'Welcome back.' }).waitFor();

    // Show sequence ids, save the screenshots, then reload: the page resumes the same session.
    await guest.getByLabel('Show sequence ids').check();
    await guest.locator('#guest').screenshot({ path: `${SHOTS}/guest-pane.png` });
    await agent.locator('#agent').screenshot({ path: `${SHOTS}/agent-pane.png` });
    // The whole page as a newcomer sees it (the README's picture is a copy of one of these).
    await guest.setViewportSize({ width: 1280, height: 900 });
    await guest.screenshot({ path: `${SHOTS}/simulator.png`, fullPage: true });
    const before = await guestLines(guest).count();
    const sessionId = await guest.locator('#session-id').textContent();
    await guest.reload();
    await expect.poll(() => guest.locator('#session-id').textContent()).toBe(sessionId);
    await expect
      .poll(() => guest.locator('#transcript li[data-seq]').count(), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(before - 1);
    await guest.locator('#transcript li.agent', { hasText: 'Yes, still here.' }).waitFor();
    const seqs = await guest
      .locator('#transcript li[data-seq]')
      .evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // Keyboard: the composer is reachable and sends with Enter.
    await guest.getByLabel('Message', { exact: true }).focus();
    await guest.keyboard.type('after reload');
    await guest.keyboard.press('Enter');
    await guest.locator('#transcript li.guest[data-status="sent"]', { hasText: 'after reload' }).waitFor();
    // The agent ends the conversation: the guest is told it is read-only now.
    await agent.getByRole('button', { name: 'Disconnect' }).click();
    await guest
      .locator('#transcript li.note', { hasText: 'left the conversation (read-only now)' })
      .waitFor();
    await guestContext.close();
    await agentContext.close();
  }, 90_000);
});
