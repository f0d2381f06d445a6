/** One transcript entry as plain text: what the CLI prints (chat failures, transcripts, test reports). */
import type { ContentItem } from '../src/protocol/index.js';

interface EntryLike {
  readonly direction: string;
  readonly text?: string | undefined;
  readonly content: readonly ContentItem[];
  readonly status: string;
  readonly failure?: { readonly code: string } | undefined;
}

/** The text, then a bracketed note per content item (`[quick reply: Yes]`, `[attachment: a.png]`, …). */
export function entryText(entry: EntryLike): string {
  const extras = entry.content.map((item) =>
    item.kind === 'quickReply'
      ? `[quick reply: ${item.text}]`
      : item.kind === 'attachment'
        ? `[attachment: ${item.filename ?? item.id}]`
        : item.kind === 'buttonResponse'
          ? `[chose: ${item.text}]`
          : `[${item.kind}]`,
  );
  return [entry.text ?? '', ...extras].filter((part) => part.length > 0).join(' ');
}

/** A guest entry's status with its failure code (`failed: text_too_long`); empty for other entries. */
export function guestStatus(entry: EntryLike): string {
  if (entry.direction !== 'guest') return '';
  return `${entry.status}${entry.failure ? `: ${entry.failure.code}` : ''}`;
}
