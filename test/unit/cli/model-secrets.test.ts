/**
 * A generative scenario's model credentials stay out of what the runner prints and writes (console,
 * JUnit, JSON): a key with a control character is refused before any request, and the text a library
 * or server returns is quoted without the key or a URL's credentials.
 */
import { describe, expect, it } from 'vitest';
import { ModelConfigError } from '../../../cli/scenarios/models/model.js';
import { quoted, shownUrl } from '../../../cli/scenarios/models/openai-compatible.js';
import { createModel } from '../../../cli/scenarios/models/providers.js';

describe('model credentials', () => {
  it('refuses a key or token holding a line break, without repeating it', () => {
    const ai = { provider: 'openai-compatible', named: 'openai-compatible' } as const;
    const refused = (() => {
      try {
        createModel(ai as never, { OPENAI_API_KEY: 'sk-proj-SECRET\nPART2' }, 1);
      } catch (error) {
        return error as Error;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(ModelConfigError);
    expect(refused?.message).toMatch(/OPENAI_API_KEY holds a line break/);
    expect(refused?.message).not.toContain('SECRET');
    expect(() =>
      createModel(
        { provider: 'google-vertex-ai', named: 'google-vertex-ai', project: 'p', location: 'l' } as never,
        { GOOGLE_VERTEX_ACCESS_TOKEN: 'ya29.SECRET\r\nMORE' },
        1,
      ),
    ).toThrow(/GOOGLE_VERTEX_ACCESS_TOKEN holds a line break/);
  });

  it('quotes what was said without the key or URL credentials', () => {
    expect(quoted('Headers.append: "Bearer sk-1\nx" is an invalid header value.', 'sk-1\nx')).toBe(
      'Headers.append: "Bearer [redacted]" is an invalid header value.',
    );
    expect(quoted('fetch failed for http://user:pass@127.0.0.1:8080/v1/chat', 'k')).toBe(
      'fetch failed for http://127.0.0.1:8080/v1/chat',
    );
  });

  it('shows a base URL without its credentials or query string', () => {
    expect(shownUrl('http://user:pass@127.0.0.1:8080/v1?key=abc')).toBe('http://127.0.0.1:8080/v1');
    expect(shownUrl('not a url')).toBe('(a URL that cannot be read)');
  });
});
