// COPY ... FROM STDIN over a node-postgres connection, the whole input in one message
// (PostgreSQL frontend/backend protocol "COPY Operations": CopyData, CopyDone). node-postgres
// has no COPY of its own (pg-copy-streams adds streams, not needed for one small buffer): a
// Submittable the client drives like a query. Used by the binding store's group commit
// (src/store/repos/bindings.ts): COPY costs the backend less CPU per row than INSERT .. SELECT.
import { EventEmitter } from 'node:events';

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

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

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
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
