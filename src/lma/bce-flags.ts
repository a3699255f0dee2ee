// Flag bits of a binding cache entry (bce.ts: Bce.flags), one small integer per BCE.

/** BCE flag bits. */
export const F = {
  /** De-registered, waiting MinDelayBeforeBCEDelete (RFC 5213 §5.3.5). */
  DEREG: 1,
  /** RFC 5846 §8.1 revocation in progress. */
  REVOKING: 2,
  /** The MAG restarted since the last accepted PBU (RFC 5847 §3.2). */
  PEER_RESTARTED: 4,
  /** RFC 5845: GRE encapsulation negotiated. */
  GRE: 8,
  /** RFC 5845: the MAG gave a downlink key, we returned an uplink key. */
  GRE_KEYS: 16,
  /** Policy snapshot: IPv6 mobility allowed (RFC 5844 §3.1.2.1, 172). */
  POL_V6: 32,
  /** Policy snapshot: IPv4 mobility allowed (170). */
  POL_V4: 64,
  /** Policy snapshot: GRE key policy optional / required (RFC 5845 §5.2). */
  POL_GRE_OPT: 128,
  POL_GRE_REQ: 256,
  /** Policy snapshot: the MAG is authorised for this MN (RFC 5213 §5.3.1 step 5). */
  POL_MAG_OK: 512,
  /** The forwarding state (tunnel + routes) is installed. */
  FWD: 1024,
  /** RFC 5844 §4.1.3.1: IPv4-UDP encapsulation (F flag accepted). */
  UDP_ENCAP: 2048,
  /** In the binding cache (set by add, cleared by remove). */
  LIVE: 4096,
  /** A change whose PBA must wait is queued and not yet durable (commit.ts). */
  UNSYNCED: 8192,
  /** Its state is queued for the binding store and not taken into a batch yet (commit.ts `dirty`). */
  QUEUED: 16384,
  /** A batch holding its state is being committed (commit.ts `inflightIds`). */
  INFLIGHT: 32768,
} as const;
