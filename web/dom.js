// Small DOM helpers shared by the page's modules.

import { safeLinkUrl } from './safe-url.js';

export const $ = (id) => document.getElementById(id);

/** `el('li', {class: 'x', onclick: fn}, child, 'text')`; `undefined`/`null` children are skipped. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

/**
 * A link to an upstream URL when it is an http(s) one (safe-url.js); anything else (`javascript:`,
 * `data:`, relative) is shown as text, never as an href.
 */
export function linkOrText(url, text) {
  const href = safeLinkUrl(url);
  if (href === undefined) return el('span', { class: 'unlinked', title: 'Not a web link: not opened' }, text);
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);
}

/**
 * A thumbnail that opens the image, for an http(s) URL, with its name under it unless `caption` is
 * false; otherwise the same as linkOrText.
 */
export function thumbnail(url, alt, { caption = true } = {}) {
  const href = safeLinkUrl(url);
  if (href === undefined) return linkOrText(url, alt);
  return el(
    'a',
    { href, target: '_blank', rel: 'noopener noreferrer', class: 'thumb-link' },
    el('img', { src: href, alt, class: 'thumb', loading: 'lazy' }),
    caption ? el('span', { class: 'thumb-name' }, alt) : null,
  );
}

/** `<time>` with the local clock time, the full date in its title. Nothing for a missing time. */
export function timeNode(iso) {
  if (typeof iso !== 'string') return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return el(
    'time',
    { datetime: iso, title: date.toLocaleString() },
    date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
  );
}

/** Shows `message` in the error line `id`, or hides the line when the message is empty. */
export function showError(id, message) {
  const line = $(id);
  line.textContent = message;
  line.hidden = message === '';
}

/** Keeps a scrolled list at its newest item. */
export function scrollToEnd(list) {
  list.scrollTop = list.scrollHeight;
}
