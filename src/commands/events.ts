/** Transcript entries as the protocol's events: what the handlers answer and the owner posts. */
import type {
  ContentItem,
  MessageEvent,
  ServerEvent,
  TranscriptEntry as WireEntry,
} from '../protocol/index.js';
import type { TranscriptEntry } from '../store/transcript.js';

/** A stored transcript entry as the protocol shows it (`seq` is `sequenceId`; store-only fields dropped). */
export function wireEntry(entry: TranscriptEntry): WireEntry {
  return {
    sessionId: entry.sessionId,
    sequenceId: entry.seq,
    entryId: entry.entryId,
    direction: entry.direction,
    content: entry.content as ContentItem[],
    status: entry.status,
    time: entry.time,
    ...(entry.text === undefined ? {} : { text: entry.text }),
    ...(entry.sender === undefined ? {} : { sender: entry.sender }),
    ...(entry.failure === undefined ? {} : { failure: entry.failure }),
    ...(entry.clientMessageId === undefined ? {} : { clientMessageId: entry.clientMessageId }),
    ...(entry.genesysId === undefined ? {} : { genesysId: entry.genesysId }),
  };
}

export function messageEvent(
  entry: TranscriptEntry,
  extra: { replay?: boolean; queued?: boolean } = {},
): MessageEvent {
  return {
    type: 'message',
    ...wireEntry(entry),
    ...(extra.replay ? { replay: true } : {}),
    ...(extra.queued ? { queued: true } : {}),
  };
}

/** A `status` event: an entry's delivery state moved (sent, failed, with its failure). */
export function statusEvent(entry: TranscriptEntry): ServerEvent {
  return {
    type: 'status',
    sessionId: entry.sessionId,
    sequenceId: entry.seq,
    status: entry.status,
    ...(entry.clientMessageId === undefined ? {} : { clientMessageId: entry.clientMessageId }),
    ...(entry.failure === undefined ? {} : { failure: entry.failure }),
  };
}
