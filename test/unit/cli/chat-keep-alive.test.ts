import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepAlive } from '../../../cli/chat.js';

describe('chat keep-alive', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings with its own nonce at each interval (under the gateway 10-minute idle limit), and stops', () => {
    const sent: Record<string, unknown>[] = [];
    const stop = keepAlive({ send: (frame) => sent.push(frame) });
    vi.advanceTimersByTime(4 * 60_000 - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([{ action: 'ping', nonce: 'chat-keep-alive' }]);
    vi.advanceTimersByTime(4 * 60_000);
    expect(sent).toHaveLength(2);
    stop();
    vi.advanceTimersByTime(60 * 60_000);
    expect(sent).toHaveLength(2);
  });
});
