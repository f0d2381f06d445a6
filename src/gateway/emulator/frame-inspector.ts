/**
 * Watches the raw bytes a client sends, frame header by frame header, so the gateway's limits apply per
 * frame as on AWS (aws-notes §2.1): `ws` only sees whole messages. It never buffers payloads: it reads
 * each header, then counts the payload bytes off. Pure; the caller feeds it socket chunks.
 */

export interface FrameLimits {
  readonly maxFrameBytes: number;
  readonly maxMessageBytes: number;
}

/** Why the connection must close, as the close frame says it. */
export interface FrameViolation {
  readonly code: 1003 | 1009;
  readonly reason: string;
}

const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

export class FrameInspector {
  readonly #limits: FrameLimits;
  readonly #onDataFrame: () => void;
  #header: Buffer = Buffer.alloc(0);
  #payloadLeft = 0;
  #messageBytes = 0;
  #violation: FrameViolation | undefined;

  /** `onDataFrame` runs for every data frame header seen (the idle timer counts traffic). */
  constructor(limits: FrameLimits, onDataFrame: () => void = () => {}) {
    this.#limits = limits;
    this.#onDataFrame = onDataFrame;
  }

  /** The first violation seen; once set, later chunks are ignored. */
  get violation(): FrameViolation | undefined {
    return this.#violation;
  }

  /** Feeds a chunk; returns the violation if this chunk caused (or an earlier one had caused) one. */
  push(chunk: Buffer): FrameViolation | undefined {
    let offset = 0;
    while (offset < chunk.length && !this.#violation) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, chunk.length - offset);
        this.#payloadLeft -= take;
        offset += take;
        continue;
      }
      const need = this.#headerLength();
      const missing = need - this.#header.length;
      const take = Math.min(missing, chunk.length - offset);
      this.#header = Buffer.concat([this.#header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.#header.length < this.#headerLength()) continue;
      this.#onHeader();
    }
    return this.#violation;
  }

  /** Bytes of the current header known so far: 2, then 2 + extended length + mask once byte 1 is in. */
  #headerLength(): number {
    const second = this.#header[1];
    if (second === undefined) return 2;
    const len7 = second & 0x7f;
    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    return 2 + extended + ((second & 0x80) !== 0 ? 4 : 0);
  }

  #onHeader(): void {
    const first = this.#header[0] ?? 0;
    const second = this.#header[1] ?? 0;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    const len7 = second & 0x7f;
    const length =
      len7 === 126
        ? this.#header.readUInt16BE(2)
        : len7 === 127
          ? Number(this.#header.readBigUInt64BE(2))
          : len7;
    this.#header = Buffer.alloc(0);
    this.#payloadLeft = length;
    if (opcode !== OPCODE_CONTINUATION && opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) return;
    this.#onDataFrame();
    if (opcode === OPCODE_BINARY) {
      this.#violation = { code: 1003, reason: 'Binary frames are not supported' };
      return;
    }
    if (length > this.#limits.maxFrameBytes) {
      this.#violation = { code: 1009, reason: 'Frame size exceeds the limit' };
      return;
    }
    this.#messageBytes = opcode === OPCODE_TEXT ? length : this.#messageBytes + length;
    if (this.#messageBytes > this.#limits.maxMessageBytes) {
      this.#violation = { code: 1009, reason: 'Message size exceeds the limit' };
      return;
    }
    if (fin) this.#messageBytes = 0;
  }
}
