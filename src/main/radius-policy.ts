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
import { isIPv4 } from 'node:net';
import { canonicalAddress } from '../util/ip.ts';
import type { PeerDirectory } from '../store/peer-directory.ts';
import type { RadiusClientSecret } from '../store/repos/aaa-clients.ts';
import { authorizeLmaInStore } from './lma-authorization.ts';

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

  /** The one profile listing this MAC (src/radius/policy.ts); a query, asked only for unknown User-Names of authenticated MAGs. */
  async findProfileByLinkLayerId(linkLayerId: string): Promise<RadiusProfile | null> {
    const ids = await this.store.profiles.mnIdsByLinkLayerId(linkLayerId);
    return ids.length === 1 ? this.directory.find(ids[0]) : null;
  }

  async findClientByAddress(address: string): Promise<RadiusClient | null> {
    const c = await this.store.aaaClients.radiusClientByAddress(unmap(address));
    return c ? asClient(c) : null;
  }

  async authorizeLma(req: LmaAuthorizationRequest): Promise<LmaAuthorizationResult> {
    const r = await authorizeLmaInStore(this.store, req, `radius:${req.client.name}`);
    // The LMA was recorded or prefixes / an address assigned: MAGs must see the new profile.
    if (r.changed) this.invalidate(req.mnId);
    return r.result;
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
