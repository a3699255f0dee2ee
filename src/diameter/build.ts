// Encoders for the base protocol messages (RFC 6733 §5.3 CER/CEA, §5.4 DPR/DPA, §5.5 DWR/DWA)
// and for answers in general (§6.2: same Command Code, R cleared, identifiers echoed; §7.2:
// protocol errors with the E bit). Pure: the caller supplies identifiers and the local node.
import { App, Avp, AvpFlag, Cmd, CmdFlag, InbandSecurity, isProtocolError } from './constants.ts';
import { AvpWriter, type DiameterHeader } from './codec.ts';
import { encAddress } from './values.ts';

/** What this node says about itself in CER/CEA, DWR/DWA and DPR/DPA. */
export interface LocalNode {
  originHost: string;
  originRealm: string;
  /** Host-IP-Address values (RFC 6733 §5.3.5: at least one); the connection's local address is used when empty. */
  hostIpAddresses: string[];
  /** Vendor-Id (0: "ignored", §5.3.3; this software has no enterprise number of its own). */
  vendorId: number;
  productName: string;
  firmwareRevision: number;
  /** Origin-State-Id (§8.16): changes on every restart. */
  originStateId: number;
  /** Auth-Application-Id values advertised (NASREQ, 1). */
  authApplicationIds: number[];
}

type Hdr = Pick<DiameterHeader, 'commandCode' | 'applicationId' | 'hopByHop' | 'endToEnd' | 'flags'>;

/** Header of the answer to a request (§6.2): R and T cleared, P kept, E for protocol errors (§7.2). */
export function answerHeader(req: Hdr, resultCode: number): Omit<DiameterHeader, 'version'> {
  const flags = (req.flags & CmdFlag.P) | (isProtocolError(resultCode) ? CmdFlag.E : 0);
  return { flags, commandCode: req.commandCode, applicationId: req.applicationId, hopByHop: req.hopByHop, endToEnd: req.endToEnd };
}

function identity(w: AvpWriter, node: LocalNode): void {
  w.utf8(Avp.OriginHost, node.originHost);
  w.utf8(Avp.OriginRealm, node.originRealm);
}

function capabilities(w: AvpWriter, node: LocalNode, localAddress: string | null): void {
  identity(w, node);
  const addrs = node.hostIpAddresses.length > 0 ? node.hostIpAddresses : localAddress ? [localAddress] : [];
  for (const a of addrs) {
    const v = encAddress(a);
    if (v) w.octets(Avp.HostIpAddress, v);
  }
  w.u32(Avp.VendorId, node.vendorId);
  w.utf8(Avp.ProductName, node.productName, 0); // §4.5: M MUST NOT be set
  w.u32(Avp.OriginStateId, node.originStateId);
  for (const id of node.authApplicationIds) w.u32(Avp.AuthApplicationId, id);
  w.u32(Avp.InbandSecurityId, InbandSecurity.NoInbandSecurity);
  w.u32(Avp.FirmwareRevision, node.firmwareRevision, 0);
}

/** CER (§5.3.1), sent by the initiator as soon as the connection is up. */
export function buildCer(node: LocalNode, ids: { hopByHop: number; endToEnd: number }, localAddress: string | null): Buffer {
  const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.CapabilitiesExchange, applicationId: App.Common, ...ids }, 256);
  capabilities(w, node, localAddress);
  return w.bytes();
}

export interface ErrorInfo {
  errorMessage?: string;
  /** Failed-AVP members (§7.5). */
  failedAvp?: Buffer;
}

function errorAvps(w: AvpWriter, e: ErrorInfo | undefined): void {
  if (e?.errorMessage) w.utf8(Avp.ErrorMessage, e.errorMessage.slice(0, 200), 0);
  const f = e?.failedAvp;
  // The offending AVP as received lacks its padding: add it so the group stays aligned (§4.4).
  if (f) w.group(Avp.FailedAvp, (g) => g.raw(f.length % 4 === 0 ? f : Buffer.concat([f, Buffer.alloc(4 - (f.length % 4))])));
}

/** CEA (§5.3.2): Result-Code plus our capabilities. */
export function buildCea(node: LocalNode, req: Hdr, resultCode: number, localAddress: string | null, e?: ErrorInfo): Buffer {
  const w = new AvpWriter(answerHeader(req, resultCode), 256);
  w.u32(Avp.ResultCode, resultCode);
  capabilities(w, node, localAddress);
  errorAvps(w, e);
  return w.bytes();
}

/** DWR (§5.5.1). */
export function buildDwr(node: LocalNode, ids: { hopByHop: number; endToEnd: number }): Buffer {
  const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.DeviceWatchdog, applicationId: App.Common, ...ids }, 128);
  identity(w, node);
  w.u32(Avp.OriginStateId, node.originStateId);
  return w.bytes();
}

/** DWA (§5.5.2). */
export function buildDwa(node: LocalNode, req: Hdr, resultCode: number): Buffer {
  const w = new AvpWriter(answerHeader(req, resultCode), 128);
  w.u32(Avp.ResultCode, resultCode);
  identity(w, node);
  w.u32(Avp.OriginStateId, node.originStateId);
  return w.bytes();
}

/** DPR (§5.4.1) with Disconnect-Cause (§5.4.3). */
export function buildDpr(node: LocalNode, ids: { hopByHop: number; endToEnd: number }, cause: number): Buffer {
  const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.DisconnectPeer, applicationId: App.Common, ...ids }, 128);
  identity(w, node);
  w.u32(Avp.DisconnectCause, cause);
  return w.bytes();
}

/** DPA (§5.4.2). */
export function buildDpa(node: LocalNode, req: Hdr, resultCode: number): Buffer {
  const w = new AvpWriter(answerHeader(req, resultCode), 128);
  w.u32(Avp.ResultCode, resultCode);
  identity(w, node);
  return w.bytes();
}

/**
 * An answer reporting an error (§7.2 for 3xxx with the E bit; the command's own answer format
 * otherwise): Session-Id first when the request had one, Origin-Host/Realm, Result-Code,
 * Error-Message, Failed-AVP.
 */
export function buildErrorAnswer(node: LocalNode, req: Hdr, resultCode: number, sessionId: Buffer | null, e?: ErrorInfo): Buffer {
  const w = new AvpWriter(answerHeader(req, resultCode), 256);
  if (sessionId) w.octets(Avp.SessionId, sessionId);
  identity(w, node);
  w.u32(Avp.ResultCode, resultCode);
  errorAvps(w, e);
  return w.bytes();
}

/** AVP flags value with M set (most PMIPv6 / NASREQ AVPs, §4.5 tables). */
export const M = AvpFlag.M;
