// The RADIUS server's policy (src/radius/policy.ts) backed by the policy store: AAA clients
// and their secrets, profiles, LMA authorisation with delegated HNP / IPv4-HoA assignment
// from the profile's pools (RFC 6572 §6.1), accounting, and open sessions for RFC 5176.
//
// Profiles come from the profile directory (src/store/profile-directory.ts), which pmip6 start
// shares with the LMA: from memory while it follows the database's change notifications, else
// from batched reads (the lookups of one event-loop turn go to the database as one
// `mn_id = ANY($1)` query). Without a directory given, a directory in mode off does the batched
// reads. LMA authorisation reads and locks the row in the database, and drops the MN from the
// directory at once when it changed the profile (the notification follows for other processes).
import type { Store } from '../store/index.ts';
import { ProfileDirectory } from '../store/profile-directory.ts';
import type { RadiusPolicy, RadiusClient, RadiusSession, AccountingRecord, LmaAuthorizationRequest, LmaAuthorizationResult, RadiusProfile } from '../radius/index.ts';
import { allocateHnps, allocateIpv4 } from '../store/repos/pools.ts';
import { getProfileIn } from '../store/repos/profiles.ts';
import { audit } from '../store/repos/audit.ts';
import { isIPv4 } from 'node:net';
import { canonicalAddress } from '../util/ip.ts';
import type { PeerDirectory } from '../store/peer-directory.ts';
import type { RadiusClientSecret } from '../store/repos/aaa-clients.ts';

const unmap = (a: string) => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

export interface StoreRadiusPolicyOptions {
  /** Where profiles come from (shared with the LMA in pmip6 start); default: batched database reads. */
  directory?: ProfileDirectory;
  /** For the default directory: most MNs per batched profile query (default 256; 1 = no batching). */
  batchSize?: number;
  /** For the default directory: batched profile queries running at once (default 4). */
  maxBatchesInFlight?: number;
  /** The RADIUS client table in memory (clientNow); without it every new source is looked up in the database. */
  peers?: PeerDirectory;
}

const asClient = (c: RadiusClientSecret): RadiusClient => ({ address: c.address, secret: c.secret, requireMessageAuthenticator: c.requireMessageAuthenticator, name: c.name ?? c.address, role: c.role, lmaAddresses: c.lmaAddresses });

export class StoreRadiusPolicy implements RadiusPolicy {
  readonly directory: ProfileDirectory;

  private readonly peers: PeerDirectory | undefined;
  private readonly asClients = new WeakMap<RadiusClientSecret, RadiusClient>();

  constructor(private readonly store: Store, o: StoreRadiusPolicyOptions = {}) {
    this.directory = o.directory ?? new ProfileDirectory(store, { mode: 'off', batchSize: o.batchSize, maxBatchesInFlight: o.maxBatchesInFlight });
    this.peers = o.peers;
  }

  clientNow(address: string): RadiusClient | null | undefined {
    if (!this.peers) return undefined;
    const a = unmap(address);
    const c = this.peers.radiusClient(isIPv4(a) ? a : (canonicalAddress(a) ?? a));
    if (!c) return null;
    let r = this.asClients.get(c);
    if (!r) {
      r = asClient(c);
      this.asClients.set(c, r);
    }
    return r;
  }

  /** Forget a profile held in memory (after an operator change; RFC 5176 requests then read it fresh). */
  invalidate(mnId: string): void {
    this.directory.invalidate(mnId);
  }

  findProfile(mnId: string): Promise<RadiusProfile | null> {
    return this.directory.find(mnId);
  }

  async findClientByAddress(address: string): Promise<RadiusClient | null> {
    const c = await this.store.aaaClients.radiusClientByAddress(unmap(address));
    return c ? asClient(c) : null;
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
