// MN attach/detach detection for the MAG, behind one interface (RFC 5213 §6.9.1.1 attach,
// §6.13 detach). Detectors: Router Solicitation, link state, DHCP, API/simulator.

export interface AttachEvent {
  kind: 'attach';
  /** Stable MN identifier (NAI), from access authentication or a mapping (RFC 5213 §6.9.1.1). */
  mnId: string;
  /** MN link-layer identifier (e.g. MAC) as colon hex, when known. */
  mnLinkLayerId?: string;
  /** RFC 5213 §8.5 Access Technology Type value. */
  accessTechType: number;
  /** Access link (interface name or simulator label) the MN attached on. */
  link: string;
  /** RFC 5213 §8.4 Handoff Indicator the detector could determine (default 4, unknown / 1 new). */
  handoffIndicator?: number;
}

export interface DetachEvent {
  kind: 'detach';
  mnId: string;
  mnLinkLayerId?: string;
  link: string;
}

export type AttachDetachEvent = AttachEvent | DetachEvent;

export interface AttachDetector {
  onEvent(handler: (e: AttachDetachEvent) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Optional reliable presence check (RFC 5213 §6.13, §6.9.4 item 2): is the MN still on that
   * access link? The MAG asks before every re-registration and retransmission, and before
   * accepting an inter-MAG-handover revocation (RFC 5846 §9.1). Answer from the detector's
   * own state (link state, NUD results): it must be cheap and synchronous. A detector that
   * cannot tell omits it, and the MAG relies on detach events alone.
   */
  isAttached?(mnId: string, link: string): boolean;
}

/** What an access-link detector advertises for one MN once its binding is in (RFC 5213 §6.7). */
export interface AdvertisedBinding {
  /** The MN's home network prefixes ("2001:db8:1:1::/64"), and nothing else (RFC 5213 §6.8). */
  hnps: string[];
  /** Binding lifetime granted by the LMA, seconds. */
  lifetimeS: number;
  /** MAG link-local to send from, when the LMA assigned one (RFC 5213 §6.9.1.2 item 15); else the fixed one. */
  magLinkLocal?: string | null;
  /** The IPv4 home address the LMA assigned (RFC 5844 §3.3), handed out by DHCPv4 (§3.4). */
  ipv4?: { address: string; prefixLen: number; defaultRouter: string | null } | null;
}

/**
 * Per-MN Router Advertisements (RFC 5213 §6.7, §6.8, RFC 4861 §6.2): `advertise` after every
 * PBA with status 0, `withdraw` (router lifetime 0) when the binding ends. A detector that has
 * no access link to advertise on (manual, simulator) does not implement it.
 */
export interface RouterAdvertiser {
  advertise(mnId: string, link: string, b: AdvertisedBinding): void;
  withdraw(mnId: string, link: string): void;
}
