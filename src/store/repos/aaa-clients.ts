// AAA clients: RADIUS clients (source address + per-client shared secret, RFC 2865 §3)
// and Diameter peers (Origin-Host identity + realm, RFC 6733). Secrets are write-only:
// list/get never return them; only the RADIUS server's lookup does. At rest they are sealed
// with the SecretBox (secret-box.ts): the database never holds them in the clear.
import type { Db, Queryable } from '../db.ts';
import { NotFoundError, translatePgError } from '../errors.ts';
import type { AaaClientInput } from '../../policy/validate.ts';
import { audit, type Actor } from './audit.ts';
import { SecretBox } from '../secret-box.ts';

export interface AaaClient {
  id: number;
  kind: 'radius' | 'diameter';
  name: string | null;
  address: string | null;
  requireMessageAuthenticator: boolean;
  /** RFC 6572 role of a RADIUS client: 'mag' or 'lma' (Authorize-Only, §6). */
  role: 'mag' | 'lma';
  lmaAddresses: string[];
  identity: string | null;
  realm: string | null;
  /** Diameter: source addresses/prefixes allowed to claim the identity. */
  allowedAddresses: string[];
  /** Diameter: SHA-256 fingerprint of the allowed TLS certificate. */
  tlsFingerprint: string | null;
  /** Present only in RADIUS server lookups, never in API output. */
  hasSecret: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface RadiusClientSecret {
  id: number;
  name: string | null;
  address: string;
  secret: string;
  requireMessageAuthenticator: boolean;
  role: 'mag' | 'lma';
  lmaAddresses: string[];
}

interface Row {
  id: bigint;
  kind: 'radius' | 'diameter';
  name: string | null;
  address: string | null;
  has_secret: boolean;
  require_message_authenticator: boolean;
  role: 'mag' | 'lma';
  lma_addresses: string[] | null;
  identity: string | null;
  realm: string | null;
  allowed_addresses: string[];
  tls_fingerprint: string | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT id, kind, name, host(address) AS address, secret IS NOT NULL AS has_secret, require_message_authenticator, role,
  (SELECT array_agg(host(a)) FROM unnest(lma_addresses) a) AS lma_addresses, identity, realm,
  allowed_addresses::text[] AS allowed_addresses, tls_fingerprint, created_at, updated_at FROM aaa_clients`;

const toClient = (r: Row): AaaClient => ({
  id: Number(r.id),
  kind: r.kind,
  name: r.name,
  address: r.address,
  requireMessageAuthenticator: r.require_message_authenticator,
  role: r.role,
  lmaAddresses: r.lma_addresses ?? [],
  identity: r.identity,
  realm: r.realm,
  allowedAddresses: r.allowed_addresses ?? [],
  tlsFingerprint: r.tls_fingerprint,
  hasSecret: r.has_secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

async function getIn(q: Queryable, id: number): Promise<AaaClient | null> {
  const r = await q.query<Row>(`${SELECT} WHERE id = $1`, [id]);
  return r.rows[0] ? toClient(r.rows[0]) : null;
}

function columns(i: AaaClientInput, box: SecretBox): unknown[] {
  return i.kind === 'radius'
    ? [i.kind, i.name, i.address, box.seal(i.secret), i.requireMessageAuthenticator, null, null, i.role, i.lmaAddresses, [], null]
    : [i.kind, i.name, null, null, true, i.identity, i.realm, i.role, i.lmaAddresses, i.allowedAddresses, i.tlsFingerprint];
}

interface SecretRow {
  id: bigint;
  name: string | null;
  address: string;
  secret: string;
  require_message_authenticator: boolean;
  role: 'mag' | 'lma';
  lma_addresses: string[] | null;
}

const SECRET_SELECT = `SELECT id, name, host(address) AS address, secret, require_message_authenticator, role,
  (SELECT array_agg(host(a)) FROM unnest(lma_addresses) a) AS lma_addresses FROM aaa_clients WHERE kind = 'radius'`;

export class AaaClientRepo {
  constructor(
    private readonly db: Db,
    /** Seals secrets at rest; default a key of this process only (tests, in-memory stores). */
    private readonly box: SecretBox = SecretBox.ephemeral(),
  ) {}

  /** A row's secret in the clear, or null when it cannot be opened (key lost or not configured). */
  private opened(x: SecretRow): RadiusClientSecret | null {
    let secret: string;
    try {
      secret = this.box.open(x.secret);
    } catch {
      return null;
    }
    return { id: Number(x.id), name: x.name, address: x.address, secret, requireMessageAuthenticator: x.require_message_authenticator, role: x.role, lmaAddresses: x.lma_addresses ?? [] };
  }

  async create(i: AaaClientInput, actor: Actor): Promise<AaaClient> {
    try {
      return await this.db.transaction(async (tx) => {
        const r = await tx.query<{ id: bigint }>(
          `INSERT INTO aaa_clients (kind, name, address, secret, require_message_authenticator, identity, realm, role, lma_addresses, allowed_addresses, tls_fingerprint)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::inet[], $10::cidr[], $11) RETURNING id`,
          columns(i, this.box),
        );
        const c = (await getIn(tx, Number(r.rows[0].id)))!;
        await audit(tx, actor, 'create', 'aaa-client', String(c.id), null, c);
        return c;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async get(id: number): Promise<AaaClient> {
    const c = await getIn(this.db, id);
    if (!c) throw new NotFoundError('aaa-client', String(id));
    return c;
  }

  async update(id: number, i: AaaClientInput, actor: Actor): Promise<AaaClient> {
    try {
      return await this.db.transaction(async (tx) => {
        const before = await getIn(tx, id);
        if (!before) throw new NotFoundError('aaa-client', String(id));
        await tx.query(
          `UPDATE aaa_clients SET kind = $2, name = $3, address = $4, secret = $5, require_message_authenticator = $6,
             identity = $7, realm = $8, role = $9, lma_addresses = $10::inet[], allowed_addresses = $11::cidr[], tls_fingerprint = $12,
             updated_at = now() WHERE id = $1`,
          [id, ...columns(i, this.box)],
        );
        const after = (await getIn(tx, id))!;
        await audit(tx, actor, 'update', 'aaa-client', String(id), before, after);
        return after;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async delete(id: number, actor: Actor): Promise<void> {
    await this.db.transaction(async (tx) => {
      const before = await getIn(tx, id);
      if (!before) throw new NotFoundError('aaa-client', String(id));
      await tx.query(`DELETE FROM aaa_clients WHERE id = $1`, [id]);
      await audit(tx, actor, 'delete', 'aaa-client', String(id), before, null);
    });
  }

  async list(f: { kind?: string; limit?: number; offset?: number } = {}): Promise<{ items: AaaClient[]; total: number }> {
    const w = `WHERE ($1::text IS NULL OR kind = $1)`;
    const total = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM aaa_clients ${w}`, [f.kind ?? null]);
    const r = await this.db.query<Row>(`${SELECT} ${w} ORDER BY id LIMIT $2 OFFSET $3`, [f.kind ?? null, f.limit ?? 50, f.offset ?? 0]);
    return { items: r.rows.map(toClient), total: Number(total.rows[0].n) };
  }

  /** RADIUS server lookup by packet source address (secret included). */
  async radiusClientByAddress(address: string): Promise<RadiusClientSecret | null> {
    const r = await this.db.query<SecretRow>(`${SECRET_SELECT} AND address = $1::inet`, [address]);
    const x = r.rows[0];
    return x ? this.opened(x) : null;
  }

  /**
   * Every RADIUS client with its secret (the server's in-memory client table,
   * src/store/peer-directory.ts); `unreadable` lists those whose secret cannot be opened.
   */
  async allRadius(): Promise<{ clients: RadiusClientSecret[]; unreadable: string[] }> {
    const r = await this.db.query<SecretRow>(`${SECRET_SELECT} ORDER BY id`);
    const clients: RadiusClientSecret[] = [];
    const unreadable: string[] = [];
    for (const x of r.rows) {
      const c = this.opened(x);
      if (c) clients.push(c);
      else unreadable.push(x.address);
    }
    return { clients, unreadable };
  }

  /**
   * Seals every secret stored in the clear (before this version) or with a previous key with
   * the current key. Returns how many rows changed; rows whose key is unknown stay as they are.
   */
  async reseal(): Promise<number> {
    const r = await this.db.query<SecretRow>(SECRET_SELECT);
    let n = 0;
    for (const x of r.rows) {
      if (this.box.isCurrent(x.secret)) continue;
      const c = this.opened(x);
      if (!c) continue;
      await this.db.query('UPDATE aaa_clients SET secret = $2 WHERE id = $1 AND secret = $3', [x.id, this.box.seal(c.secret), x.secret]);
      n++;
    }
    return n;
  }

  /** Diameter peer lookup by Origin-Host. */
  async diameterPeer(identity: string): Promise<AaaClient | null> {
    const r = await this.db.query<Row>(`${SELECT} WHERE kind = 'diameter' AND identity = $1`, [identity]);
    return r.rows[0] ? toClient(r.rows[0]) : null;
  }

  /** Every Diameter peer (the server holds them in memory: a CER costs no query). */
  async diameterPeers(): Promise<AaaClient[]> {
    const r = await this.db.query<Row>(`${SELECT} WHERE kind = 'diameter' ORDER BY id`);
    return r.rows.map(toClient);
  }
}
