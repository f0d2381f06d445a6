/**
 * The executor's rule for doorbells: a doorbell's commands start at once only when every command it says
 * is pending is known; otherwise none starts, and the runner reads the session and starts them all in
 * order. What breaks if this fails: Genesys receives a guest's messages in another order than the
 * transcript's (a late doorbell's command overtakes an earlier one).
 */
import { describe, expect, it } from 'vitest';
import { CommandExecutor, type ExecutorHost } from '../../../src/commands/executor.js';
import { COMMAND_QUEUE_DEFAULTS } from '../../../src/commands/queue.js';
import type { PendingCommand } from '../../../src/commands/types.js';

function send(id: string, seq: number): PendingCommand {
  return { id, type: 'send', seq, createdAt: seq, entryId: `e-${id}`, content: [], bytes: 10 };
}

/** A host on which starting anything shows (the upstream session is asked for first). */
function host(started: string[]): ExecutorHost {
  return {
    sessionId: 's',
    fence: { workerId: 'w', epoch: 1 },
    closed: false,
    guest: () => {
      started.push('guest');
      throw new Error('stop here');
    },
    onFailure: () => {},
    now: () => 0,
    queue: { options: COMMAND_QUEUE_DEFAULTS },
  } as unknown as ExecutorHost;
}

describe('CommandExecutor.accept', () => {
  it('starts nothing and asks for a read when the doorbell lists a command it has not seen', async () => {
    const started: string[] = [];
    const executor = new CommandExecutor(host(started));
    expect(executor.accept([send('c#b', 12)], ['c#a', 'c#b'])).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toEqual([]);
    expect(executor.knows(['c#b'])).toBe(false);
    executor.stop();
  });

  it("starts the doorbell's commands when everything it lists came with it or is known", async () => {
    const started: string[] = [];
    const executor = new CommandExecutor(host(started));
    expect(executor.accept([send('c#a', 11)], ['c#a'])).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toEqual(['guest']);
    executor.stop();
  });

  it('forgets a command whose run failed, so a later doorbell that lists it asks for a read first', async () => {
    const started: string[] = [];
    const failures: unknown[] = [];
    const executor = new CommandExecutor({
      ...host(started),
      onFailure: (error: unknown) => failures.push(error),
    } as ExecutorHost);
    expect(executor.accept([send('c#a', 11)], ['c#a'])).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(failures).toHaveLength(1);
    // Still pending on the item: the next doorbell names it, and must not overtake it.
    expect(executor.knows(['c#a'])).toBe(false);
    expect(executor.accept([send('c#b', 12)], ['c#a', 'c#b'])).toBe(false);
    expect(started).toEqual(['guest']);
    executor.stop();
  });
});

describe('CommandExecutor.listedWithNothingPending', () => {
  /** A host that counts idle clears (each finds the map empty). */
  function idleHost(clears: string[]): ExecutorHost {
    return {
      ...host([]),
      write: <T>(action: () => Promise<T>) => action(),
      queue: {
        options: COMMAND_QUEUE_DEFAULTS,
        clearIdle: async () => {
          clears.push('clear');
          return true;
        },
      },
    } as unknown as ExecutorHost;
  }

  it('plans one idle clear, no read, when a sweep lists the session with nothing pending', async () => {
    const clears: string[] = [];
    const executor = new CommandExecutor(idleHost(clears));
    // Each sweep lists it again until the clear lands; a planned clear is not planned twice.
    executor.listedWithNothingPending();
    executor.listedWithNothingPending();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(clears).toEqual(['clear']);
    executor.listedWithNothingPending();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(clears).toEqual(['clear', 'clear']);
    executor.stop();
  });

  it('plans nothing while a command is under way: its settlement plans the clear', async () => {
    const clears: string[] = [];
    const executor = new CommandExecutor(idleHost(clears));
    expect(executor.accept([send('c#a', 11)], ['c#a'])).toBe(true);
    executor.listedWithNothingPending();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(clears).toEqual([]);
    executor.stop();
  });
});

describe('CommandExecutor: an upload slot', () => {
  const upload = (connectionId?: string): PendingCommand => ({
    id: 'upload#u-1',
    type: 'upload',
    createdAt: 1,
    upload: {
      uploadId: 'u-1',
      filename: 'a.png',
      contentType: 'image/png',
      size: 4,
      ...(connectionId === undefined ? {} : { connectionId }),
    },
  });

  /** A host whose Genesys hands out a slot at once; records every post, and to whom. */
  function uploadHost(posted: { to: string; type: string; url?: string }[], asker: 'there' | 'gone') {
    return {
      ...host([]),
      guest: () => ({
        requestUploadSlot: async () => ({
          attachmentId: 'att-1',
          url: 'https://uploads.invalid/put?sig=x',
          headers: {},
        }),
        awaitUpload: async () => ({ attachmentId: 'att-1' }),
      }),
      sessions: { getUpload: async () => ({ uploadId: 'u-1', send: false }) },
      post: async (event: { type: string; url?: string }) => {
        posted.push({ to: 'all', type: event.type, ...(event.url ? { url: event.url } : {}) });
      },
      postTo: async (connectionId: string, event: { type: string; url?: string }) => {
        posted.push({ to: connectionId, type: event.type, ...(event.url ? { url: event.url } : {}) });
        return asker === 'there';
      },
      write: <T>(action: () => Promise<T>) => action(),
      controlConnectionId: () => undefined,
    } as unknown as ExecutorHost;
  }

  it('is told to the connection that asked for it only', async () => {
    const posted: { to: string; type: string; url?: string }[] = [];
    const executor = new CommandExecutor(uploadHost(posted, 'there'));
    expect(executor.accept([upload('conn-guest')], ['upload#u-1'])).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(posted).toEqual([
      { to: 'conn-guest', type: 'upload', url: 'https://uploads.invalid/put?sig=x' },
      { to: 'all', type: 'uploaded' },
    ]);
    executor.stop();
  });

  it('fails the upload, saying why, when the connection that asked is gone', async () => {
    const posted: { to: string; type: string; url?: string }[] = [];
    const executor = new CommandExecutor(uploadHost(posted, 'gone'));
    expect(executor.accept([upload('conn-gone')], ['upload#u-1'])).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(posted).toEqual([
      { to: 'conn-gone', type: 'upload', url: 'https://uploads.invalid/put?sig=x' },
      { to: 'all', type: 'uploadFailed' },
    ]);
    executor.stop();
  });
});
