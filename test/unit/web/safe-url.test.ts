/**
 * The web page turns upstream URLs (attachments, card and carousel buttons) into links only through
 * web/safe-url.js: absolute http(s) URLs become hrefs, anything else stays plain text.
 */
import { readFileSync } from 'node:fs';
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

describe('web/app.js', () => {
  const app = readFileSync(new URL('../../../web/app.js', import.meta.url), 'utf8');

  it('imports the check', () => {
    expect(app).toMatch(/^import \{ safeLinkUrl \} from '\.\/safe-url\.js';$/m);
  });

  it('sets no href, src or request URL straight from an event', () => {
    // Every href is the checked `href` variable (shorthand); no src attributes at all.
    for (const match of app.matchAll(/\bhref\s*:\s*([^,}\s]+)/g)) expect(match[1]).toBe('href');
    expect(app).not.toMatch(/\bsrc\s*:/);
    expect(app).not.toMatch(/\.(?:href|src)\s*=/);
    expect(app).not.toMatch(/open\('PUT',\s*slot\.url\)/);
    expect(app.match(/el\('a'/g)).toHaveLength(1);
  });
});
