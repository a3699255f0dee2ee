// The RADIUS server's policy (src/radius/policy.ts) backed by the policy store: AAA clients
// and their secrets, profiles, LMA authorisation with delegated HNP / IPv4-HoA assignment
// from the profile's pools (RFC 6572 §6.1), accounting, and open sessions for RFC 5176.
//
// Profile reads for Access-Requests are batched: lookups that arrive while the event loop
// is busy go to PostgreSQL as one `mn_id = ANY($1)` query (up to `batchSize` MNs, at most
// `maxBatchesInFlight` queries at a time), so under load one round trip, one row description
// and one socket write serve many requests. Each read still starts after its request arrived.
//
// Profile cache: on top of that, profiles can be reused for a short TTL
// (`profileCacheTtlMs`, default 0 = off). Entries are dropped early by `invalidate(mnId)`
// (pmip6 start calls it from the API's profile-change hook before sending CoA/Disconnect)
// and by this policy's own LMA authorisation updates. A change made by another process
// (another API node, SQL) is seen after at most the TTL. Unknown MNs are not cached, so a
// newly provisioned MN is accepted at once. LMA authorisation always reads the database.
import type { Store } from '../store/index.ts';
import type { Profile } from '../policy/profile.ts';
import type { RadiusPolicy, RadiusClient, RadiusSession, AccountingRecord, LmaAuthorizationRequest, LmaAuthorizationResult, RadiusProfile } from '../radius/index.ts';
import { allocateHnps, allocateIpv4 } from '../store/repos/pools.ts';
import { getProfileIn } from '../store/repos/profiles.ts';
import { audit } from '../store/repos/audit.ts';
import { canonicalAddress } from '../util/ip.ts';

const unmap = (a: string) => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

export interface StoreRadiusPolicyOptions {
  /** How long a profile read for an Access-Request is reused (default 0 = no cache: every request reads the store). */
  profileCacheTtlMs?: number;
  /** Most cached profiles (default 200,000); the oldest entries go first. */
  profileCacheMaxEntries?: number;
  /** Most MNs per batched profile query (default 256; 1 = no batching). */
  batchSize?: number;
  /** Batched profile queries running at once (default 4). */
  maxBatchesInFlight?: number;
  now?: () => number;
}

export const DEFAULT_PROFILE_CACHE_TTL_MS = 0;

/**
 * ProfileRepo's lookup for many MNs at once (unique index on mn_id), in column types that are
 * cheap to parse on the hot path (lists joined with ',', which neither prefixes nor
 * link-layer ids contain; times as epoch milliseconds; int8 as text).
 */
const BATCH_SELECT = `SELECT p.id::text AS id, p.mn_id, array_to_string(p.mn_ll_ids, ',') AS mn_ll_ids,
  (SELECT string_agg(h.prefix::text, ',' ORDER BY h.position, h.prefix) FROM hnp_assignments h WHERE h.profile_id = p.id) AS hnps,
  hp.name AS hnp_pool, host(p.ipv4_hoa) AS ipv4_hoa, p.ipv4_prefix_length, vp.name AS ipv4_pool,
  host(p.ipv4_default_router) AS ipv4_default_router, p.lma, p.lma_group, p.service_selection, p.gre_key_policy,
  host(p.dhcpv4_server) AS dhcpv4_server, host(p.dhcpv6_server) AS dhcpv6_server, p.interface_id, p.mip6_feature_vector::text AS fv, p.enabled,
  floor(extract(epoch FROM p.created_at) * 1000)::float8 AS created_ms, floor(extract(epoch FROM p.updated_at) * 1000)::float8 AS updated_ms
  FROM profiles p LEFT JOIN pools hp ON hp.id = p.hnp_pool_id LEFT JOIN pools vp ON vp.id = p.ipv4_pool_id
  WHERE p.mn_id = ANY($1::text[])`;

interface BatchRow {
  id: string;
  mn_id: string;
  mn_ll_ids: string | null;
  hnps: string | null;
  hnp_pool: string | null;
  ipv4_hoa: string | null;
  ipv4_prefix_length: number | null;
  ipv4_pool: string | null;
  ipv4_default_router: string | null;
  lma: string | null;
  lma_group: string | null;
  service_selection: string | null;
  gre_key_policy: Profile['greKeyPolicy'];
  dhcpv4_server: string | null;
  dhcpv6_server: string | null;
  interface_id: string | null;
  fv: string;
  enabled: boolean;
  created_ms: number;
  updated_ms: number;
}

const list = (s: string | null): string[] => (s ? s.split(',') : []);

/** Every field ProfileRepo.find fills (test/radius/store-policy.test.ts compares the two). */
function rowToProfile(r: BatchRow): Profile {
  return {
    id: Number(r.id),
    mnId: r.mn_id,
    mnLinkLayerIds: list(r.mn_ll_ids),
    hnps: list(r.hnps),
    hnpPool: r.hnp_pool,
    ipv4HoA: r.ipv4_hoa,
    ipv4PrefixLength: r.ipv4_prefix_length,
    ipv4Pool: r.ipv4_pool,
    ipv4DefaultRouter: r.ipv4_default_router,
    lma: r.lma,
    lmaGroup: r.lma_group,
    serviceSelection: r.service_selection,
    greKeyPolicy: r.gre_key_policy,
    dhcpv4Server: r.dhcpv4_server,
    dhcpv6Server: r.dhcpv6_server,
    interfaceId: r.interface_id,
    // Stored as signed int8; the feature vector is an unsigned 64-bit mask.
    mip6FeatureVector: BigInt.asUintN(64, BigInt(r.fv)),
    enabled: r.enabled,
    createdAt: new Date(Number(r.created_ms)),
    updatedAt: new Date(Number(r.updated_ms)),
  };
}

type Waiter = { resolve: (p: RadiusProfile | null) => void; reject: (e: unknown) => void };

export class StoreRadiusPolicy implements RadiusPolicy {
  private readonly ttl: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { profile: RadiusProfile; expires: number }>();
  /** Reads in progress; a read is cached only if it is still the one registered here (not invalidated meanwhile). */
  private readonly inflight = new Map<string, Promise<RadiusProfile | null>>();

  private readonly batchSize: number;
  private readonly maxBatches: number;
  /** Lookups waiting for the next batch, by MN (one read serves every waiter of an MN). */
  private waiting = new Map<string, Waiter[]>();
  private batchesInFlight = 0;
  private flushScheduled = false;

  constructor(private readonly store: Store, o: StoreRadiusPolicyOptions = {}) {
    this.ttl = o.profileCacheTtlMs ?? DEFAULT_PROFILE_CACHE_TTL_MS;
    this.maxEntries = o.profileCacheMaxEntries ?? 200_000;
    this.batchSize = Math.max(1, o.batchSize ?? 256);
    this.maxBatches = Math.max(1, o.maxBatchesInFlight ?? 4);
    this.now = o.now ?? Date.now;
  }

  /** One profile read, batched with the other reads of this event-loop turn. */
  private read(mnId: string): Promise<RadiusProfile | null> {
    if (this.batchSize === 1) return this.store.profiles.find(mnId);
    return new Promise((resolve, reject) => {
      const w = this.waiting.get(mnId);
      if (w) w.push({ resolve, reject });
      else this.waiting.set(mnId, [{ resolve, reject }]);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchesInFlight >= this.maxBatches || this.waiting.size === 0) return;
    this.flushScheduled = true;
    // After the I/O callbacks of this turn: every datagram read in it joins the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.batchesInFlight < this.maxBatches && this.waiting.size > 0) {
      let batch: Map<string, Waiter[]>;
      if (this.waiting.size <= this.batchSize) {
        batch = this.waiting;
        this.waiting = new Map();
      } else {
        batch = new Map();
        for (const [k, v] of this.waiting) {
          batch.set(k, v);
          this.waiting.delete(k);
          if (batch.size === this.batchSize) break;
        }
      }
      this.batchesInFlight++;
      this.store.db.query<BatchRow>(BATCH_SELECT, [[...batch.keys()]]).then(
        (r) => {
          const found = new Map<string, RadiusProfile>();
          for (const row of r.rows) found.set(row.mn_id, rowToProfile(row));
          for (const [k, ws] of batch) {
            const p = found.get(k) ?? null;
            for (const w of ws) w.resolve(p);
          }
        },
        (e: unknown) => {
          for (const ws of batch.values()) for (const w of ws) w.reject(e);
        },
      ).finally(() => {
        this.batchesInFlight--;
        this.scheduleFlush();
      });
    }
  }

  /** Forget a cached profile (after an operator change; RFC 5176 requests then read it fresh). */
  invalidate(mnId?: string): void {
    if (mnId === undefined) {
      this.cache.clear();
      this.inflight.clear();
    } else {
      this.cache.delete(mnId);
      this.inflight.delete(mnId);
    }
  }

  async findClientByAddress(address: string): Promise<RadiusClient | null> {
    const c = await this.store.aaaClients.radiusClientByAddress(unmap(address));
    return c ? { address: c.address, secret: c.secret, requireMessageAuthenticator: c.requireMessageAuthenticator, name: c.name ?? c.address } : null;
  }

  findProfile(mnId: string): Promise<RadiusProfile | null> {
    if (this.ttl <= 0) return this.read(mnId);
    const now = this.now();
    const hit = this.cache.get(mnId);
    if (hit) {
      if (hit.expires > now) return Promise.resolve(hit.profile);
      this.cache.delete(mnId);
    }
    const pending = this.inflight.get(mnId);
    if (pending) return pending;
    const read: Promise<RadiusProfile | null> = this.read(mnId).then(
      (p) => {
        if (this.inflight.get(mnId) !== read) return p; // invalidated while reading: do not cache
        this.inflight.delete(mnId);
        if (p) {
          if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(mnId, { profile: p, expires: this.now() + this.ttl });
        }
        return p;
      },
      (e: unknown) => {
        if (this.inflight.get(mnId) === read) this.inflight.delete(mnId);
        throw e;
      },
    );
    this.inflight.set(mnId, read);
    return read;
  }

  async authorizeLma(req: LmaAuthorizationRequest): Promise<LmaAuthorizationResult> {
    let changed = false;
    const r = await this.store.db.transaction(async (tx): Promise<LmaAuthorizationResult> => {
      const lock = await tx.query<{ id: bigint }>('SELECT id FROM profiles WHERE mn_id = $1 FOR UPDATE', [req.mnId]);
      if (!lock.rows[0]) return { ok: false, reason: 'unknown mobile node' };
      const before = (await getProfileIn(tx, req.mnId))!;
      const p = before;
      if (!p.enabled) return { ok: false, reason: 'mobile node disabled' };
      if (req.serviceSelection !== null && p.serviceSelection !== null && p.serviceSelection !== req.serviceSelection) return { ok: false, reason: 'service not allowed' };
      const id = Number(lock.rows[0].id);
      if (req.lmaAddress !== null) {
        const asked = canonicalAddress(req.lmaAddress) ?? req.lmaAddress;
        if (p.lma !== null && p.lmaGroup === null && p.lma !== asked) return { ok: false, reason: 'MN is not anchored at this LMA' };
        if (p.lma === null) {
          // RFC 6097 §4: the selected LMA is recorded so the next MAG is told the same one.
          await tx.query('UPDATE profiles SET lma = $2, updated_at = now() WHERE id = $1', [id, asked]);
          changed = true;
        }
      }
      if (req.hnps === 'delegate' && p.hnps.length === 0) {
        if (!p.hnpPool) return { ok: false, reason: 'no home network prefix available' };
        await allocateHnps(tx, p.hnpPool, id, 1);
        changed = true;
      } else if (Array.isArray(req.hnps)) {
        for (const h of req.hnps) if (!p.hnps.includes(h)) return { ok: false, reason: `prefix ${h} is not the MN's` };
      }
      if (req.ipv4HoA === 'delegate' && p.ipv4HoA === null) {
        if (!p.ipv4Pool) return { ok: false, reason: 'no IPv4 home address available' };
        const a = await allocateIpv4(tx, p.ipv4Pool);
        await tx.query('UPDATE profiles SET ipv4_hoa = $2, ipv4_pool_index = $3, ipv4_prefix_length = COALESCE(ipv4_prefix_length, $4), ipv4_default_router = COALESCE(ipv4_default_router, $5) WHERE id = $1', [id, a.address, a.index, a.prefixLength, a.gateway]);
        changed = true;
      } else if (req.ipv4HoA && req.ipv4HoA !== 'delegate' && req.ipv4HoA.address !== p.ipv4HoA) {
        return { ok: false, reason: `IPv4 HoA ${req.ipv4HoA.address} is not the MN's` };
      }
      const after = changed ? (await getProfileIn(tx, req.mnId))! : p;
      if (changed) await audit(tx, `radius:${req.client.name}`, 'update', 'profile', p.mnId, before, after);
      return { ok: true, profile: after };
    });
    // The LMA was recorded or prefixes / an address assigned: MAGs must see the new profile.
    if (changed) this.invalidate(req.mnId);
    return r;
  }

  async recordAccounting(rec: AccountingRecord): Promise<void> {
    await this.store.db.query(
      `INSERT INTO accounting (record_key, received_at, status_type, session_id, multi_session_id, mn_id, user_name, nas_address, nas_identifier,
         client_address, client_name, session_time, input_octets, output_octets, input_packets, output_packets, terminate_cause, attributes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::jsonb)
       ON CONFLICT (record_key) DO NOTHING`,
      [
        rec.key, rec.receivedAt, rec.statusType, rec.sessionId, rec.multiSessionId, rec.mnId, rec.userName,
        rec.nasIpAddress ?? rec.nasIpv6Address, rec.nasIdentifier, unmap(rec.clientAddress), rec.clientName, rec.sessionTime,
        rec.inputOctets?.toString() ?? null, rec.outputOctets?.toString() ?? null, rec.inputPackets, rec.outputPackets, rec.terminateCause,
        JSON.stringify({
          statusTypeValue: rec.statusTypeValue, nasIpv6Address: rec.nasIpv6Address, delayTime: rec.delayTime, eventTimestamp: rec.eventTimestamp,
          serviceSelection: rec.serviceSelection, lmaAddress: rec.lmaAddress, hnps: rec.hnps, ipv4HoA: rec.ipv4HoA,
          callingStationId: rec.callingStationId, featureVector: rec.featureVector?.toString() ?? null,
        }),
      ],
    );
  }

  async findSessions(mnId: string): Promise<RadiusSession[]> {
    // Latest record per (NAS, session); open when it is not a Stop and no Accounting-On/Off
    // from that NAS came after it (RFC 2866 §5.1: On/Off end all of a NAS's sessions).
    const r = await this.store.db.query<{ session_id: string | null; user_name: string | null; client_address: string; nas_identifier: string | null; nas_address: string | null; attributes: { nasIpv6Address?: string | null } }>(
      `SELECT * FROM (
         SELECT DISTINCT ON (a.client_address, a.session_id) a.id, a.status_type, a.session_id, a.user_name, host(a.client_address) AS client_address,
                a.nas_identifier, host(a.nas_address) AS nas_address, a.attributes
         FROM accounting a WHERE a.mn_id = $1 AND a.status_type IN ('start', 'interim-update', 'stop')
         ORDER BY a.client_address, a.session_id, a.id DESC) s
       WHERE s.status_type <> 'stop'
         AND NOT EXISTS (SELECT 1 FROM accounting o WHERE o.client_address = s.client_address::inet
                         AND o.status_type IN ('accounting-on', 'accounting-off') AND o.id > s.id)
       ORDER BY s.id DESC`,
      [mnId],
    );
    return r.rows.map((x) => ({
      mnId,
      userName: x.user_name,
      acctSessionId: x.session_id,
      clientAddress: x.client_address,
      nasIdentifier: x.nas_identifier,
      nasIpAddress: x.nas_address && !x.nas_address.includes(':') ? x.nas_address : null,
      nasIpv6Address: x.attributes?.nasIpv6Address ?? null,
    }));
  }
}
