// COPY ... FROM STDIN over a node-postgres connection, the whole input in one message
// (PostgreSQL frontend/backend protocol "COPY Operations": CopyData, CopyDone). node-postgres
// has no COPY of its own (pg-copy-streams adds streams, not needed for one small buffer): a
// Submittable the client drives like a query. Used by the binding store's group commit
// (src/store/repos/bindings.ts): COPY costs the backend less CPU per row than INSERT .. SELECT.
//
// Query, CopyData and CopyDone go out together, in one write, without waiting for the
// server's CopyInResponse: one system call and one round trip per statement instead of three
// and two (the group commit's PBAs wait for it). The protocol allows it: should the statement
// fail before copy-in mode, "any subsequent CopyData, CopyDone, or CopyFail messages issued by
// the frontend will simply be dropped" (protocol-flow "COPY Operations"; postgres.c accepts and
// ignores them outside COPY).
import { EventEmitter } from 'node:events';

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  /** node-postgres writes one message's bytes to the socket with it (not public API: checked before use). */
  _send?(buffer: Buffer): boolean;
}

/** Query message (Byte1 'Q', Int32 length, String) followed by the header of one CopyData ('d', Int32 length). */
function header(text: string, dataLength: number): Buffer {
  const q = Buffer.byteLength(text);
  const b = Buffer.allocUnsafe(1 + 4 + q + 1 + 1 + 4);
  b[0] = 0x51; // 'Q'
  b.writeInt32BE(4 + q + 1, 1);
  b.write(text, 5);
  b[5 + q] = 0;
  b[6 + q] = 0x64; // 'd'
  b.writeInt32BE(4 + dataLength, 7 + q);
  return b;
}

/** CopyDone: Byte1 'c', Int32 4. */
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/** One COPY FROM STDIN statement; `callback` (set by the client) runs once the server is ready again. */
export class CopyFromStdin extends EventEmitter {
  callback?: (err: Error | null, res?: unknown) => void;
  /** Rows the server reported as copied. */
  rowCount = 0;
  private done = false;

  constructor(
    readonly text: string,
    private readonly data: Buffer,
  ) {
    super();
  }

  /** True when the data went with the Query (CopyInResponse then has nothing left to send). */
  private sent = false;

  submit(connection: CopyConnection): void {
    if (typeof connection._send === 'function') {
      connection._send(Buffer.concat([header(this.text, this.data.length), this.data, COPY_DONE]));
      this.sent = true;
    } else {
      connection.query(this.text);
    }
  }

  handleCopyInResponse(connection: CopyConnection): void {
    if (this.sent) return;
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }

  // The client drops a query on its error (ReadyForQuery then finds none): report it at once.
  handleError(e: Error): void {
    this.finish(e);
  }

  handleReadyForQuery(): void {
    this.finish(null);
  }

  private finish(e: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.callback?.(e, this);
  }

  // Messages a COPY FROM never gets; present because the client may call them on any query.
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}
