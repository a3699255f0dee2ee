// Accounting records (RFC 2866, RFC 6572 §7) written by the RADIUS and Diameter servers.
// `record` resolves only after the row is committed: the server answers after that.
import type { Db } from '../db.ts';

export interface AccountingInput {
  statusType: string;
  sessionId: string | null;
  mnId: string | null;
  nasAddress: string | null;
  nasIdentifier: string | null;
  clientAddress: string | null;
  sessionTime?: number | null;
  inputOctets?: bigint | number | null;
  outputOctets?: bigint | number | null;
  inputPackets?: bigint | number | null;
  outputPackets?: bigint | number | null;
  terminateCause?: number | null;
  /** Remaining attributes, by name. */
  attributes?: Record<string, unknown>;
}

export interface AccountingRecord extends Required<Omit<AccountingInput, 'inputOctets' | 'outputOctets' | 'inputPackets' | 'outputPackets'>> {
  id: number;
  receivedAt: Date;
  inputOctets: string | null;
  outputOctets: string | null;
  inputPackets: string | null;
  outputPackets: string | null;
}

const big = (v: bigint | number | null | undefined) => (v === null || v === undefined ? null : v.toString());

export class AccountingRepo {
  constructor(private readonly db: Db) {}

  async record(a: AccountingInput): Promise<number> {
    const r = await this.db.query<{ id: bigint }>(
      `INSERT INTO accounting (status_type, session_id, mn_id, nas_address, nas_identifier, client_address, session_time,
         input_octets, output_octets, input_packets, output_packets, terminate_cause, attributes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb) RETURNING id`,
      [
        a.statusType, a.sessionId, a.mnId, a.nasAddress, a.nasIdentifier, a.clientAddress, a.sessionTime ?? null,
        big(a.inputOctets), big(a.outputOctets), big(a.inputPackets), big(a.outputPackets), a.terminateCause ?? null,
        JSON.stringify(a.attributes ?? {}, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
      ],
    );
    return Number(r.rows[0].id);
  }

  async list(f: { mnId?: string; sessionId?: string; limit?: number; offset?: number } = {}): Promise<{ items: AccountingRecord[]; total: number }> {
    const vals = [f.mnId ?? null, f.sessionId ?? null];
    const w = `WHERE ($1::text IS NULL OR mn_id = $1) AND ($2::text IS NULL OR session_id = $2)`;
    const total = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM accounting ${w}`, vals);
    const r = await this.db.query<Record<string, unknown>>(
      `SELECT id, received_at, status_type, session_id, mn_id, host(nas_address) AS nas_address, nas_identifier,
         host(client_address) AS client_address, session_time, input_octets, output_octets, input_packets, output_packets,
         terminate_cause, attributes
       FROM accounting ${w} ORDER BY id DESC LIMIT $3 OFFSET $4`,
      [...vals, f.limit ?? 50, f.offset ?? 0],
    );
    const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
    return {
      total: Number(total.rows[0].n),
      items: r.rows.map((x) => ({
        id: Number(x.id),
        receivedAt: x.received_at as Date,
        statusType: x.status_type as string,
        sessionId: x.session_id as string | null,
        mnId: x.mn_id as string | null,
        nasAddress: x.nas_address as string | null,
        nasIdentifier: x.nas_identifier as string | null,
        clientAddress: x.client_address as string | null,
        sessionTime: x.session_time === null ? null : Number(x.session_time),
        inputOctets: s(x.input_octets),
        outputOctets: s(x.output_octets),
        inputPackets: s(x.input_packets),
        outputPackets: s(x.output_packets),
        terminateCause: x.terminate_cause as number | null,
        attributes: (x.attributes ?? {}) as Record<string, unknown>,
      })),
    };
  }
}
