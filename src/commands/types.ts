/**
 * Commands: what a Lambda writes durably on the session item and the session's owner (a worker) carries
 * out (DESIGN §2, "Durable first, doorbell second, sweep as backstop"). A guest `send` carries its whole
 * content and the `sequenceId` the session's allocator gave it in the same write, so the user's message
 * and its number become durable together; the owner writes the transcript entry later. A `record` is the
 * owner's own kind: an agent or bot message it numbered and has not written to the transcript yet.
 *
 * On the session item a command lives at `pending.<id>`; the number of a `send` or `record` lives at
 * `seqs.<id>` (one write cannot compute the number into the command itself). Readers get both merged:
 * {@link PendingCommand}. This file holds the types and the small functions over them: the store
 * (src/store/sessions.ts) and the queue (queue.ts) both use them, and it imports nothing of theirs.
 */
import { createHash } from 'node:crypto';

export type CommandType = 'start' | 'send' | 'record' | 'context' | 'upload' | 'end';

interface CommandBase {
  /** Unique within the session; the map key. A keyed send's id comes from its clientMessageId. */
  readonly id: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** `start`: open the upstream Genesys session of a new session (written with the session itself). */
export interface StartCommand extends CommandBase {
  readonly type: 'start';
}

/** The author of an agent or bot message, as Genesys names them. */
export interface CommandSender {
  readonly name?: string;
  readonly nickname?: string;
  readonly image?: string;
}

/** `send`: a guest message, whole. The owner sends it upstream, then writes its transcript entry. */
export interface SendCommand extends CommandBase {
  readonly type: 'send';
  /** The transcript entry's id, and the Genesys `tracingId` of the upstream message. */
  readonly entryId: string;
  readonly text?: string;
  /** Rich content (attachments, a quick-reply answer), as the protocol's ContentItem. */
  readonly content: readonly unknown[];
  readonly clientMessageId?: string;
  /** A hash of the payload: the same clientMessageId with another payload is a conflict. */
  readonly fingerprint?: string;
  /** What this command counts against the session's byte budget (`pendingBytes`). */
  readonly bytes: number;
  /**
   * Written before commands carried their content (they named an entry already in the transcript):
   * the owner reads that entry. Such commands have no `entryId` of their own in storage.
   */
  readonly legacy?: boolean;
}

export type RecordDirection = 'guest' | 'agent' | 'bot' | 'system';

/** `record`: an upstream message the owner numbered; its entry is written to the transcript next. */
export interface RecordCommand extends CommandBase {
  readonly type: 'record';
  readonly entryId: string;
  readonly direction: RecordDirection;
  readonly text?: string;
  readonly content: readonly unknown[];
  readonly sender?: CommandSender;
  /** Genesys' message id: upstream messages are de-duplicated by it. */
  readonly genesysId?: string;
  /** ISO time: Genesys' `channel.time`, or when it was numbered. */
  readonly time: string;
}

/** `context`: the session's stored custom attributes go upstream (now with `flush`, else with the next message). */
export interface ContextCommand extends CommandBase {
  readonly type: 'context';
  readonly flush?: boolean;
}

export interface PendingUpload {
  readonly uploadId: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** The bytes travel inline (small files) rather than through the presigned upload. */
  readonly inline?: boolean;
  /**
   * The connection that asked for it: the only one told the presigned URL, which lets whoever holds it
   * put a file into the session as the guest (a watcher of the session must not). Absent on commands
   * stored before it was recorded: those tell every connection, as before.
   */
  readonly connectionId?: string;
}

/** `upload`: ask Genesys for an upload slot (or upload inline bytes); the rest is in the upload's item. */
export interface UploadCommand extends CommandBase {
  readonly type: 'upload';
  readonly upload: PendingUpload;
}

/** `end`: the guest ends the session. */
export interface EndCommand extends CommandBase {
  readonly type: 'end';
  readonly reason?: string;
}

/** A command as stored at `pending.<id>`. */
export type Command =
  | StartCommand
  | SendCommand
  | RecordCommand
  | ContextCommand
  | UploadCommand
  | EndCommand;

/** Commands that take a number from the session's allocator. */
export type NumberedCommand = (SendCommand | RecordCommand) & { readonly seq: number };

/** A command as read back: sends and records with their number. */
export type PendingCommand = StartCommand | ContextCommand | UploadCommand | EndCommand | NumberedCommand;

/**
 * The name under which the session item's `settled` map keeps a command's number for the settle horizon
 * (a send, or a record a drain carried out: docs/store.md): `k` and 72 bits of the id's SHA-256
 * (base64url), 13 characters whatever the id. A keyed send's id holds the guest's clientMessageId (38
 * characters for a UUID) and a session sending steadily keeps a minute of them; stored under the id
 * as `{seq, at}`, each took about 54 bytes of the item, and every write to the item pays for its size
 * (docs/decisions.md). A name holds no `#` and an id always does, so entries stored under the id before
 * (read by settledSeq) never meet these.
 */
export function settledName(id: string): string {
  return `k${createHash('sha256').update(id).digest('base64url').slice(0, 12)}`;
}

/** The number a settled command keeps on the item (`settled`, name → number), or undefined. */
export function settledSeq(settled: Readonly<Record<string, number>>, id: string): number | undefined {
  return settled[settledName(id)] ?? settled[id];
}

export function isNumbered(command: PendingCommand): command is NumberedCommand {
  return command.type === 'send' || command.type === 'record';
}

/**
 * The order commands start in. Numbered commands keep their numbers' order (the transcript's order is the
 * order Genesys receives them in); the others (start, context, upload, end) their creation times; the two
 * lists are merged by creation time. Merging, rather than one comparator over both, keeps the numbers'
 * order even when the clocks of two Lambdas disagree by a few milliseconds.
 */
export function orderCommands(commands: Iterable<PendingCommand>): PendingCommand[] {
  const numbered: NumberedCommand[] = [];
  const others: PendingCommand[] = [];
  for (const command of commands) {
    if (isNumbered(command)) numbered.push(command);
    else others.push(command);
  }
  numbered.sort((a, b) => a.seq - b.seq);
  others.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ordered: PendingCommand[] = [];
  let i = 0;
  let j = 0;
  while (i < numbered.length || j < others.length) {
    const next = numbered[i];
    const other = others[j];
    if (next !== undefined && (other === undefined || next.createdAt <= other.createdAt)) {
      ordered.push(next);
      i++;
    } else if (other !== undefined) {
      ordered.push(other);
      j++;
    }
  }
  return ordered;
}

/** The id of a guest send: keyed sends by their clientMessageId, so a retry finds the first. */
export function sendCommandId(clientMessageId: string | undefined, entryId: string): string {
  return clientMessageId === undefined ? `s#${entryId}` : `c#${clientMessageId}`;
}
