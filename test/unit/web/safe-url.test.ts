/**
 * The web page turns upstream URLs (attachments, card and carousel buttons) into links only through
 * web/safe-url.js: absolute http(s) URLs become hrefs, anything else stays plain text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { safeLinkUrl } from '../../../web/safe-url.js';

describe('safeLinkUrl', () => {
  it.each([
    ['https://example.com/a?b=c#d', 'https://example.com/a?b=c#d'],
    ['http://127.0.0.1:8080/uploads/x', 'http://127.0.0.1:8080/uploads/x'],
    ['HTTPS://EXAMPLE.COM/File.PDF', 'https://example.com/File.PDF'],
  ])('keeps the web URL %s', (input, href) => {
    expect(safeLinkUrl(input)).toBe(href);
  });

  it.each([
    'javascript:alert(document.cookie)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'data:image/svg+xml,<svg onload=alert(1)>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'blob:https://example.com/uuid',
    'ftp://example.com/x',
    '//evil.example/x',
    '/relative/path',
    'relative',
    '',
  ])('refuses %j', (input) => {
    expect(safeLinkUrl(input)).toBeUndefined();
  });

  it.each([undefined, null, 42, { href: 'https://example.com' }])('refuses the non-string %j', (input) => {
    expect(safeLinkUrl(input)).toBeUndefined();
  });
});

describe("the page's modules", () => {
  const folder = new URL('../../../web/', import.meta.url);
  const modules = readdirSync(folder)
    .filter((name) => name.endsWith('.js') && name !== 'safe-url.js')
    .map((name) => ({ name, text: readFileSync(new URL(name, folder), 'utf8') }));

  it('are read', () => {
    expect(modules.map((m) => m.name)).toEqual(
      expect.arrayContaining(['app.js', 'dom.js', 'guest.js', 'render.js']),
    );
  });

  it('set no href, src or request URL straight from an event', () => {
    for (const { name, text } of modules) {
      // Every href and src is the checked `href` variable; nothing assigns one as a property.
      for (const match of text.matchAll(/\b(?:href|src)\s*:\s*([^,}\s]+)/g))
        expect([name, match[1]]).toEqual([name, 'href']);
      expect(text, name).not.toMatch(/\.(?:href|src)\s*=/);
      expect(text, name).not.toMatch(/open\('PUT',\s*slot\.url\)/);
      expect(text, name).not.toMatch(/innerHTML|insertAdjacentHTML|outerHTML/);
    }
  });

  it('make links and images in one module, which checks every URL', () => {
    const makers = modules.filter(({ text }) => /el\('(?:a|img)'/.test(text)).map((m) => m.name);
    expect(makers).toEqual(['dom.js']);
    const dom = modules.find((m) => m.name === 'dom.js')?.text ?? '';
    expect(dom).toMatch(/^import \{ safeLinkUrl \} from '\.\/safe-url\.js';$/m);
    expect(dom.match(/const href = safeLinkUrl\(url\);/g)).toHaveLength(2);
  });
});
