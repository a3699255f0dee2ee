// The one configuration of a PMIP6 Suite process (docs/ARCHITECTURE.md "Configuration").
// Every key can come from the config file or from the environment as PMIP6_ plus its
// path in upper snake case (api.port -> PMIP6_API_PORT); DATABASE_URL selects PostgreSQL.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  return v;
}, z.boolean());
const ms = z.coerce.number().int().min(0);

function isPostgresUrl(v: string): boolean {
  try {
    // A Unix-socket server has no host part: postgres://user@/db?host=/run/postgresql (libpq
    // and pg accept it; WHATWG URL does not, so it is checked with a placeholder host).
    const socket = /^(postgres(?:ql)?:\/\/(?:[^/@]*@)?)(\/[^?]*\?(?:.*&)?host=(?:\/|%2F))/i.exec(v);
    const u = new URL(socket ? v.replace(socket[0], `${socket[1]}localhost${socket[2]}`) : v);
    return u.protocol === 'postgres:' || u.protocol === 'postgresql:';
  } catch {
    return false;
  }
}
/** RFC 6475 timer objects: 1..65535 ms. */
const mibMs = z.coerce.number().int().min(1).max(65535);
/** Lists from the environment are comma separated ("a,b"). */
const strList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

/** Lists whose items contain commas: ";" separated in the environment. */
const semiList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(';').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

export const configSchema = z.object({
  /** Folder for the embedded PGlite store, generated secrets and persisted SNMP objects. */
  dataDir: z.string().min(1).default('./data'),
  /** postgres://... selects PostgreSQL; empty means the embedded PGlite store in dataDir. */
  databaseUrl: z
    .string()
    .refine((v) => v === '' || isPostgresUrl(v), 'must be empty (embedded store) or a URL postgres://user[:password]@host[:port]/database')
    .default(''),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pmip6 start`: V8's old-generation growth step, % of the live heap (src/main/heap-tuning.ts; 0 = V8's default). */
  heapGrowingPercent: z.coerce.number().int().min(0).max(1000).default(50),
  store: z
    .object({
      /**
       * Profiles in memory for the RADIUS and Diameter servers and the LMA, kept current by change
       * notifications from the database (src/store/profile-directory.ts): off (every lookup
       * reads the database), lazy (filled on first lookup), preload (all loaded at start).
       */
      profileCache: z.enum(['off', 'lazy', 'preload']).default('lazy'),
      /** Longest time cached profiles are used without proof that change notifications still arrive. */
      profileCacheMaxStaleMs: z.coerce.number().int().min(100).default(10000),
      /** At start, how long to wait for PostgreSQL to answer (retrying with backoff) before giving up, ms. */
      connectTimeoutMs: ms.default(20000),
      /**
       * While the database cannot be reached: how long after it was last seen RADIUS and the LMA
       * keep answering from the profiles they hold (0 = not at all).
       */
      outageServeMs: ms.default(300_000),
      /** Embedded store (PGlite): PostgreSQL shared_buffers, inside the process's memory. */
      embeddedSharedBuffers: z.string().regex(/^\d+(kB|MB|GB)$/, 'a size such as 16MB').default('16MB'),
    })
    .prefault({}),
  api: z
    .object({
      enabled: bool.default(true),
      host: z.string().default('0.0.0.0'),
      port: port.default(8080),
      /** Bearer token; when empty in all-in-one mode one is generated into dataDir/api-token. */
      token: z.string().default(''),
      /** Largest accepted request body (bulk imports). */
      bodyLimit: z.string().default('64mb'),
    })
    .prefault({}),
  radius: z
    .object({
      enabled: bool.default(true),
      /** Addresses the server listens on ("::" is dual-stack where the host allows it). */
      bind: strList.default(['::']),
      authPort: port.default(1812),
      acctPort: port.default(1813),
      coaPort: port.default(3799),
      /**
       * Require Message-Authenticator on every Access-Request, whatever a client's own setting
       * (BlastRADIUS, CVE-2024-3596). false: each client's requireMessageAuthenticator decides.
       */
      requireMessageAuthenticator: bool.default(true),
      /**
       * Client-side (a MAG with RADIUS AAA, RFC 6572): servers in order of preference as
       * "host[:port][/acctPort]" ("[v6]:port" for IPv6; accounting defaults to port + 1),
       * shared secret and timeouts. The MAG's RFC 5176 listener uses coaPort.
       */
      servers: strList.default([]),
      secret: z.string().default(''),
      timeoutMs: ms.default(1000),
      retries: z.coerce.number().int().min(0).max(10).default(2),
      cacheTtlMs: ms.default(30000),
    })
    .prefault({}),
  diameter: z
    .object({
      /** The Diameter server (RFC 6733 base, NASREQ with the RFC 5779 PMIPv6 AVPs) on `port` (TCP) and `tlsPort`. */
      enabled: bool.default(false),
      /** Addresses the server listens on ("::" is dual-stack where the host allows it). */
      bind: strList.default(['::']),
      port: port.default(3868),
      /** TLS/TCP listener (RFC 6733 §2.1), run when tlsCert and tlsKey are set. */
      tlsPort: port.default(5658),
      /** This node's DiameterIdentity (Origin-Host), as server and as client. */
      identity: z.string().min(1).default('aaa.pmip6.local'),
      realm: z.string().min(1).default('pmip6.local'),
      /** PEM files: this node's certificate and key (server and aaas:// client), and the CA peers' certificates must chain to. */
      tlsCert: z.string().default(''),
      tlsKey: z.string().default(''),
      tlsCa: z.string().default(''),
      /** RFC 3539 Twinit: a DWR after this long without traffic (jitter ±2 s); RFC 3539 forbids less than 6 s. */
      watchdogMs: z.coerce.number().int().min(6000).default(30000),
      /** Authorization sessions kept for RAR/ASR pushes (oldest dropped beyond). */
      maxSessions: z.coerce.number().int().min(1).default(1_000_000),
      /**
       * Client side (a MAG or LMA with aaa.protocol=diameter): servers in order of preference as
       * DiameterURIs, "aaa://host[:port]" (TCP, 3868) or "aaas://host[:port]" (TLS, 5658). With an
       * FQDN the server's CEA must carry it as Origin-Host.
       */
      peers: strList.default([]),
      /** Time a request may take, failover to another peer included. */
      requestTimeoutMs: ms.default(3000),
      /** Tc (RFC 6733 §2.1): the longest wait between reconnection attempts (back-off starts at 1 s). */
      reconnectMaxMs: z.coerce.number().int().min(1000).default(30000),
      cacheTtlMs: ms.default(30000),
    })
    .prefault({}),
  aaa: z
    .object({
      /**
       * The AAA protocol this process's MAG and LMA speak as clients: radius (with radius.servers)
       * or diameter (with diameter.peers). Without servers/peers they use no AAA: the MAG asks
       * the LMA to assign, the LMA reads the store.
       */
      protocol: z.enum(['radius', 'diameter']).default('radius'),
    })
    .prefault({}),
  snmp: z
    .object({
      enabled: bool.default(true),
      /** Addresses the agent binds (IPv4 and/or IPv6). */
      bind: strList.default(['0.0.0.0', '::']),
      port: port.default(161),
      /** SNMPv2c communities: "name" (read-only) or "name:rw". None by default: v2c is off. */
      communities: strList.default([]),
      /** SNMPv3 USM users: "name:sha256:authKey:aes:privKey[:rw]" (auth sha|sha224|sha256|sha384|sha512, privacy aes). */
      users: strList.default([]),
      /** Notification receivers: "host[:port]" (v2c trap) or "v3:user@host[:port]" (v3 inform). */
      trapTargets: strList.default([]),
      /** Community for v2c traps (default: the first community). */
      trapCommunity: z.string().default(''),
      /** Notifications per second, all targets together. */
      notificationRate: z.coerce.number().min(0.1).max(10000).default(10),
    })
    .prefault({}),
  security: z
    .object({
      /**
       * Key sealing AAA shared secrets at rest (32 bytes as 64 hex digits or base64). Empty: the
       * key file. Every process sharing one PostgreSQL needs the same key.
       */
      secretKey: z.string().default(''),
      /** Key file when secretKey is empty; created (random key, mode 0600) when missing. Default dataDir/secret.key. */
      secretKeyFile: z.string().default(''),
      /** Keys sealed with earlier (rotation): rows sealed with one of them are re-sealed with secretKey at start. */
      previousSecretKeys: strList.default([]),
      /**
       * RFC 5213 §4 requires IPsec between MAG and LMA. Where the kernel has no ESP (or no SAs are
       * configured) the LMA and MAG start only when this is true, and say so in the log and the MIB.
       */
      allowUnprotectedSignalling: bool.default(false),
      /**
       * RFC 5213 §4 / RFC 3776 transport-mode SAs for the signalling, one per direction and peer:
       * "peer=<ip>,spiIn=<n>,spiOut=<n>,auth=hmac(sha256)|hmac(sha1),authKeyIn=<hex>,authKeyOut=<hex>[,enc=cbc(aes),encKeyIn=<hex>,encKeyOut=<hex>]".
       */
      ipsecSas: semiList.default([]),
    })
    .prefault({}),
  lma: z
    .object({
      enabled: bool.default(true),
      /** Name of this LMA (keys its persisted bindings); default its address. */
      id: z.string().default(''),
      /** LMA address (LMAA) on the MAG-facing side: IPv6 (MH on raw IPv6, protocol 135) or IPv4 (UDP). */
      address: z.string().default('127.0.0.1'),
      /** IPv4-LMAA (RFC 5844 §4): listens on IPv4/UDP there too when `address` is IPv6. */
      ipv4Address: z.string().default(''),
      /** RFC 5844 §4: Mobility Header over IPv4/UDP. */
      udpPort: port.default(5436),
      /** IPv4/UDP through the native addon's batched socket (recvmmsg / sendmmsg) when it is built; false: node:dgram. */
      udpBatched: bool.default(true),
      /**
       * When a new or changed binding counts as committed, so its PBA 0 may go (PostgreSQL):
       * "disk" once the commit is flushed to disk (fdatasync); "server" once the database
       * server holds it (synchronous_commit off on the LMA's own binding connections): it
       * survives a crash of the LMA, not a crash of the database host within a few hundred ms.
       */
      commitWait: z.enum(['disk', 'server']).default('disk'),
      /** RFC 5213 §9.1 defaults. */
      minDelayBeforeBCEDelete: mibMs.default(10000),
      maxDelayBeforeNewBCEAssign: mibMs.default(1500),
      timestampValidityWindow: mibMs.default(300),
      /** RFC 5213 §9.3 TimestampBasedApproachInUse: false = sequence numbers order PBUs (a Timestamp option is ignored). */
      timestampBasedApproach: bool.default(true),
      /** RFC 5213 §9.3 MobileNodeGeneratedTimestampInUse (only with timestampBasedApproach). */
      mobileNodeGeneratedTimestamp: bool.default(false),
      /** RFC 5844 §5 AcceptForcedIPv4UDPEncapsulationRequest: honour the F flag (IPv4-UDP tunnel). */
      acceptForcedIpv4UdpEncapsulation: bool.default(false),
      /** Longest binding lifetime granted, seconds. */
      maxLifetime: z.coerce.number().int().min(4).max(262140).default(3600),
      /** Authorise any MAG (lab use); otherwise MAGs must be provisioned and authorised. */
      authorizeAnyMag: bool.default(false),
      /** RFC 5847 §5 HEARTBEAT_INTERVAL in seconds (0: send no requests; responses are always sent); under 30 only with heartbeatIntervalForce. */
      heartbeatInterval: z.coerce.number().int().min(0).max(3600).default(60),
      /** Accept a heartbeat interval under 30 s (RFC 5847 §5: SHOULD NOT; tests and labs). */
      heartbeatIntervalForce: bool.default(false),
      /** RFC 5847 §5 MISSING_HEARTBEATS_ALLOWED. */
      missingHeartbeatsAllowed: z.coerce.number().int().min(1).max(255).default(3),
      /** Names/addresses under which this LMA anchors MNs; a profile naming another LMA gets status 153. */
      servedNames: strList.default([]),
      /**
       * How long a binding's policy answer (profile enabled, MAG authorised) spares its
       * re-registrations a new policy check, ms. Profiles are served from memory by the profile
       * directory, so this can be short: a disabled profile stops re-registrations within it.
       * While the directory follows the database's changes, an answer serves on until any profile
       * or MAG changes, at most 10 minutes (src/lma/handle.ts snapshotServes); 0: every PBU asks.
       */
      policyCacheTtl: ms.default(5000),
    })
    .prefault({}),
  mag: z
    .object({
      id: z.string().default('mag1'),
      /** Proxy-CoA: the MAG's address towards the LMA; IPv6 signals over raw IPv6 (protocol 135), IPv4 over UDP. */
      proxyCoa: z.string().default('127.0.0.1'),
      /** IPv4-Proxy-CoA (RFC 5844 §4) for LMAs with an IPv4 address, when proxyCoa is IPv6. */
      ipv4ProxyCoa: z.string().default(''),
      /** Default LMA when the profile names none. */
      lmaAddress: z.string().default('127.0.0.1'),
      lmaPort: port.default(5436),
      /** Local UDP port for signalling (RFC 5844 §4: 5436; 0 = any free port). */
      port: port.default(5436),
      lifetime: z.coerce.number().int().min(4).max(262140).default(300),
      /** RFC 5847 §5 HEARTBEAT_INTERVAL in seconds (0: send no requests); under 30 only with heartbeatIntervalForce. */
      heartbeatInterval: z.coerce.number().int().min(0).max(3600).default(60),
      /** Accept a heartbeat interval under 30 s (RFC 5847 §5: SHOULD NOT; tests and labs). */
      heartbeatIntervalForce: bool.default(false),
      /** RFC 5847 §5 MISSING_HEARTBEATS_ALLOWED. */
      missingHeartbeatsAllowed: z.coerce.number().int().min(1).max(255).default(3),
      /** Ask for an IPv4 home address too (RFC 5844). */
      requestIpv4: bool.default(false),
      /** RFC 5213 §9.3 TimestampBasedApproachInUse: Timestamp option (true) or per-session sequence numbers. */
      timestampBasedApproach: bool.default(true),
      /** RFC 5213 §9.1 TimestampValidityWindow, ms: how far a 157's timestamp may move the next PBU ahead of our clock. */
      timestampValidityWindow: mibMs.default(300),
      /** RFC 5844 §5 ForceIPv4UDPEncapsulationSupport: set the F flag (ask for an IPv4-UDP tunnel). */
      forceIpv4UdpEncapsulation: bool.default(false),
      /** The MN–MAG interface (src/attach/): how MNs are detected on access links and the Router Advertisements they get. */
      access: z
        .object({
          /** api: attach/detach events come from the REST API only; access-link: also from the access interfaces (MLD, DAD NS, RS, link state). */
          detector: z.enum(['api', 'access-link']).default('api'),
          /** Access interfaces, one MN each (RFC 5213 §6.3); a trailing * matches a prefix ("mn*"). */
          interfaces: strList.default([]),
          /** MN identities by link-layer address, "02:00:5e:10:00:01=mn1@example.net" (RFC 5213 §6.9.1.1: the MAG identifies the MN). */
          mns: strList.default([]),
          /**
           * directory: only MACs in mag.access.mns are MNs; aaa: a MAC not listed attaches as
           * "<mac hex>@<macRealm>" and AAA finds the profile by Calling-Station-Id (its Accept names the MN-ID).
           */
          identity: z.enum(['directory', 'aaa']).default('directory'),
          /** Realm of the NAI a MAC-identified MN is looked up with (identity=aaa). */
          macRealm: z.string().default(''),
          /** RFC 5213 §8.5 Access Technology Type of these links (3: IEEE 802.3). */
          accessTechType: z.coerce.number().int().min(0).max(255).default(3),
          /** RFC 6543 FixedMAGLinkLayerAddressOnAllAccessLinks. */
          linkLayerAddress: z.string().regex(/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/, 'must be a MAC address like 00:00:5e:00:52:13').default('00:00:5e:00:52:13'),
          /** RFC 5213 §6.8 / RFC 6543 FixedMAGLinkLocalAddressOnAllAccessLinks. */
          linkLocal: z.string().regex(/^fe[89ab][0-9a-f]:[0-9a-f:]*$/i, 'must be an IPv6 link-local address (fe80::/10)').default('fe80::200:5eff:fe00:5213'),
          /** Give each access interface the fixed link-layer and link-local address (rtnetlink; needs CAP_NET_ADMIN). */
          configureLink: bool.default(true),
          /** Silence from an attached MN before NUD probes start, ms (RFC 4861 §10 REACHABLE_TIME). */
          reachableTime: z.coerce.number().int().min(100).default(30000),
          /** Unanswered NUD probes before the MN counts as gone (RFC 4861 §10 MAX_UNICAST_SOLICIT). */
          nudProbes: z.coerce.number().int().min(1).max(10).default(3),
          /** Between NUD probes, ms (RFC 4861 §10 RETRANS_TIMER). */
          nudRetransTimer: z.coerce.number().int().min(10).default(1000),
          /** Least time between two attaches on one access interface (attach/detach storms), ms. */
          holdDown: ms.default(1000),
          /** Most MNs tracked at once. */
          maxHosts: z.coerce.number().int().min(1).default(4096),
          /** Frames read per access interface per second; the rest are dropped (a flooding host costs bounded CPU). */
          maxFramesPerSecond: z.coerce.number().int().min(10).default(200),
          /** RFC 4861 §6.2.1 MaxRtrAdvInterval, s (RFC 8319: up to 65535). */
          raMaxInterval: z.coerce.number().int().min(4).max(65535).default(600),
          /** RFC 4861 §6.2.1 MinRtrAdvInterval, s; 0 = 0.33 × raMaxInterval. */
          raMinInterval: z.coerce.number().min(0).default(0),
          /** RFC 4861 §6.2.1 AdvDefaultLifetime, s; 0 = 3 × raMaxInterval (at most 65535). */
          routerLifetime: z.coerce.number().int().min(0).max(65535).default(0),
          /** RFC 4861 §6.2.1 AdvValidLifetime of each HNP, s. */
          prefixValidLifetime: z.coerce.number().int().min(0).max(0xffffffff).default(2592000),
          /** RFC 4861 §6.2.1 AdvPreferredLifetime of each HNP, s. */
          prefixPreferredLifetime: z.coerce.number().int().min(0).max(0xffffffff).default(604800),
          /** RFC 5213 §6.9.2 item 3: the tunnel MTU in the RA's MTU option; 0 leaves it out. */
          mtu: z.coerce.number().int().min(0).max(65535).default(1452),
          /** RFC 4861 AdvManagedFlag (M): addresses by DHCPv6 (RFC 5213 §6.11). */
          managedFlag: bool.default(false),
          /** RFC 4861 AdvOtherConfigFlag (O). */
          otherConfigFlag: bool.default(false),
          /** RFC 4861 §10 MAX_RA_DELAY_TIME for solicited RAs, ms. */
          raDelay: ms.default(500),
          /** RFC 5844 §3.4: a DHCPv4 server on the access links hands out the IPv4 home address the LMA assigned. */
          dhcpServer: bool.default(true),
          /** RFC 5844 §3.4.1 DHCP server identifier, the same on every MAG; empty = the MN's IPv4 default router. */
          dhcpServerId: z.string().regex(/^$|^(\d{1,3}\.){3}\d{1,3}$/, 'must be empty or an IPv4 address').default(''),
          /** DHCPv4 lease time, s. */
          dhcpLeaseTime: z.coerce.number().int().min(60).max(0xffffffff).default(3600),
        })
        .prefault({}),
      /** RFC 5845 GRE keys: from the MN's profile (greKeyPolicy), for every MN (always), or never offered. */
      greMode: z.enum(['profile', 'always', 'never']).default('profile'),
    })
    .prefault({}),
  dataplane: z
    .object({
      /**
       * Which data plane forwards the MNs' packets (src/dataplane/): auto (kernel tunnels where the
       * kernel has them and this build drives them, else the user-space forwarder when the process
       * may create a TUN device, else recording), userspace, kernel, or recording (signalling only).
       */
      kind: z.enum(['auto', 'userspace', 'kernel', 'recording']).default('auto'),
      /** TUN device of the user-space forwarder; empty = pmip6-lma / pmip6-mag. */
      tunName: z.string().max(15).regex(/^[\w.-]*$/, 'an interface name').default(''),
      /** Routing table for the HNP routes; 0 = 5213 (LMA) / 5214 (MAG). */
      table: z.coerce.number().int().min(0).max(0xfffffffe).default(0),
      /**
       * How the user-space forwarder's routes and rules are changed: rtnetlink from the native
       * addon (microseconds per change), the `ip` command (a process per change, 2-5 ms), or
       * auto (rtnetlink when the addon has it).
       */
      routing: z.enum(['auto', 'rtnetlink', 'ip-command']).default('auto'),
      /** Preference of the policy-routing rules that look the table up. */
      rulePriority: z.coerce.number().int().min(1).max(32765).default(5213),
      /** TUN device MTU: 1500 minus the outer IPv6 header and a keyed GRE header (RFC 8200 §5: at least 1280). */
      mtu: z.coerce.number().int().min(1280).max(65535).default(1452),
      /** Most tunnels and routes the forwarder holds (its tables never grow past them). */
      maxTunnels: z.coerce.number().int().min(1).max(1_000_000).default(65536),
      maxRoutes: z.coerce.number().int().min(1).max(16_000_000).default(1_000_000),
      /** Turn on IPv6 and IPv4 forwarding (sysctl) in the process's network namespace. */
      enableForwarding: bool.default(true),
      /**
       * LMA routing contexts besides the default one (src/dataplane/contexts.ts), one per service
       * (RFC 5149): "<service> table=<n> upstream=<if>[+<if>] [tun=<name>] [via=<address>]". MNs of
       * that service get their own TUN device, routing table and IPv4 address space, so the same
       * private IPv4 home address can be served in two contexts (told apart by GRE keys, RFC 5845).
       */
      contexts: strList.default([]),
    })
    .prefault({}),
}).superRefine((c, ctx) => {
  // The shape only; src/dataplane/contexts.ts checks the values when the data plane opens.
  for (const x of c.dataplane.contexts) {
    if (!/^[^\s=]+(\s+(table|tun|upstream|via)=\S+)+$/.test(x.trim())) {
      ctx.addIssue({ code: 'custom', path: ['dataplane', 'contexts'], message: `"${x}" is not "<service> table=<n> upstream=<if>[+<if>] [tun=<name>] [via=<address>]"` });
    }
  }
  if (c.mag.access.detector === 'access-link' && c.mag.access.interfaces.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['mag', 'access', 'interfaces'], message: 'mag.access.detector=access-link needs at least one access interface' });
  }
  if (c.mag.access.identity === 'aaa' && !/^[A-Za-z0-9.-]+$/.test(c.mag.access.macRealm)) {
    ctx.addIssue({ code: 'custom', path: ['mag', 'access', 'macRealm'], message: 'mag.access.identity=aaa needs a realm (e.g. example.net) for the NAI of MAC-identified MNs' });
  }
  for (const m of c.mag.access.mns) {
    if (!/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}=\S+$/.test(m)) ctx.addIssue({ code: 'custom', path: ['mag', 'access', 'mns'], message: `"${m}" is not MAC=NAI (02:00:5e:10:00:01=mn1@example.net)` });
  }
  // RFC 5847 §5: HEARTBEAT_INTERVAL SHOULD NOT be less than 30 seconds.
  for (const role of ['lma', 'mag'] as const) {
    const r = c[role];
    if (r.heartbeatInterval > 0 && r.heartbeatInterval < 30 && !r.heartbeatIntervalForce) {
      ctx.addIssue({ code: 'custom', path: [role, 'heartbeatInterval'], message: `RFC 5847 §5: a heartbeat interval under 30 s is refused; set ${role}.heartbeatIntervalForce=true to use it anyway` });
    }
  }
  // RFC 5213 §9.3: MobileNodeGeneratedTimestampInUse MUST NOT be 1 when TimestampBasedApproachInUse is 0.
  if (c.lma.mobileNodeGeneratedTimestamp && !c.lma.timestampBasedApproach) {
    ctx.addIssue({ code: 'custom', path: ['lma', 'mobileNodeGeneratedTimestamp'], message: 'RFC 5213 §9.3: needs lma.timestampBasedApproach=true' });
  }
});

export type Config = z.infer<typeof configSchema>;
