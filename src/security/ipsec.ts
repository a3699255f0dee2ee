// RFC 5213 §4: the signalling between MAG and LMA MUST be protected with IPsec (RFC 4301,
// ESP in transport mode, RFC 3776 for the Mobility Header). This file builds the Linux XFRM
// configuration for it from configured keys (manual keying, one SA per direction and peer),
// probes whether the kernel offers ESP, and decides whether a role may start:
//
//   ESP available and SAs configured  -> install SAs and policies      -> 'ipsec'
//   otherwise, security.allowUnprotectedSignalling = true -> start, loudly -> 'unprotected'
//   otherwise                                              -> refuse to start (UnprotectedSignallingError)
//
// Policies select the signalling only: UDP port 5436 for RFC 5844 §4 carriage, IP protocol 135
// for the Mobility Header over IPv6. Command generation is pure (argv arrays); running them is
// the injected `run`.
import { execFile } from 'node:child_process';

export type SignallingProtection = 'ipsec' | 'unprotected';

export interface SaSpec {
  peer: string;
  /** SPI of the SA from the peer to us, and from us to the peer. */
  spiIn: number;
  spiOut: number;
  /** Kernel algorithm name, e.g. "hmac(sha256)". */
  auth: string;
  authKeyIn: string;
  authKeyOut: string;
  /** Kernel cipher name, e.g. "cbc(aes)"; "ecb(cipher_null)" for integrity only (RFC 4303 NULL). */
  enc: string;
  encKeyIn: string;
  encKeyOut: string;
}

export class UnprotectedSignallingError extends Error {
  constructor(reason: string) {
    super(
      `signalling between MAG and LMA would run without IPsec (RFC 5213 §4): ${reason}. ` +
        'Configure security.ipsecSas on a kernel with ESP, or accept unprotected signalling explicitly with ' +
        'security.allowUnprotectedSignalling=true (PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING=true) on an isolated network.',
    );
    this.name = 'UnprotectedSignallingError';
  }
}

const AUTH = new Set(['hmac(sha1)', 'hmac(sha256)', 'hmac(sha384)', 'hmac(sha512)']);
const ENC = new Set(['cbc(aes)', 'ecb(cipher_null)']);
const HEX = /^(0x)?[0-9a-fA-F]+$/;

/**
 * "peer=2001:db8::2,spiIn=0x1001,spiOut=0x1002,auth=hmac(sha256),authKeyIn=<hex>,authKeyOut=<hex>
 * [,enc=cbc(aes),encKeyIn=<hex>,encKeyOut=<hex>]". Throws with the field at fault.
 */
export function parseSa(text: string): SaSpec {
  const kv = new Map<string, string>();
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`security.ipsecSas "${text}": "${part}" is not key=value`);
    kv.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const need = (k: string): string => {
    const v = kv.get(k);
    if (!v) throw new Error(`security.ipsecSas "${redact(text)}": ${k} is missing`);
    return v;
  };
  const spi = (k: string): number => {
    const n = Number(need(k));
    if (!Number.isInteger(n) || n < 256 || n > 0xffffffff) throw new Error(`security.ipsecSas: ${k} must be an integer 256..2^32-1 (RFC 4303 §2.1)`);
    return n;
  };
  const key = (k: string, bytes: number[]): string => {
    const v = need(k);
    if (!HEX.test(v)) throw new Error(`security.ipsecSas: ${k} must be hex`);
    const h = v.replace(/^0x/, '');
    if (!bytes.includes(h.length / 2)) throw new Error(`security.ipsecSas: ${k} must be ${bytes.join(' or ')} bytes`);
    return h.toLowerCase();
  };
  const auth = need('auth');
  if (!AUTH.has(auth)) throw new Error(`security.ipsecSas: auth must be one of ${[...AUTH].join(', ')}`);
  const enc = kv.get('enc') ?? 'ecb(cipher_null)';
  if (!ENC.has(enc)) throw new Error(`security.ipsecSas: enc must be one of ${[...ENC].join(', ')}`);
  const authLen = { 'hmac(sha1)': [20], 'hmac(sha256)': [32], 'hmac(sha384)': [48], 'hmac(sha512)': [64] }[auth as 'hmac(sha1)']!;
  const nullEnc = enc === 'ecb(cipher_null)';
  return {
    peer: need('peer'),
    spiIn: spi('spiIn'),
    spiOut: spi('spiOut'),
    auth,
    authKeyIn: key('authKeyIn', authLen),
    authKeyOut: key('authKeyOut', authLen),
    enc,
    encKeyIn: nullEnc ? '' : key('encKeyIn', [16, 24, 32]),
    encKeyOut: nullEnc ? '' : key('encKeyOut', [16, 24, 32]),
  };
}

/** A spec's text without its keys, for error messages and logs. */
export function redact(text: string): string {
  return text.replace(/(Key(?:In|Out)=)[^,]*/g, '$1…');
}

/** What the SAs protect: RFC 5844 §4 UDP port 5436, or the Mobility Header (IP protocol 135). */
export interface Selector {
  local: string;
  carriage: 'udp' | 'mh';
  /** UDP port of the LMA (source or destination of every signalling packet). */
  port: number;
  role: 'lma' | 'mag';
}

/** `ip` argv lists installing one peer's transport-mode SAs and policies (RFC 4301 §4.4.1, RFC 3776 §4). */
export function xfrmCommands(sel: Selector, sa: SaSpec): string[][] {
  const state = (src: string, dst: string, spi: number, authKey: string, encKey: string): string[] => [
    'xfrm', 'state', 'add', 'src', src, 'dst', dst, 'proto', 'esp', 'spi', `0x${spi.toString(16)}`, 'mode', 'transport',
    'auth', sa.auth, `0x${authKey}`, 'enc', sa.enc, encKey ? `0x${encKey}` : '""',
  ];
  // Out: our packets to the peer; in: the peer's to us. The LMA listens on `port`, the MAG sends to it.
  const ports = (dir: 'out' | 'in'): string[] => {
    if (sel.carriage === 'mh') return ['proto', '135'];
    const towardsLma = (sel.role === 'mag') === (dir === 'out');
    return ['proto', 'udp', towardsLma ? 'dport' : 'sport', String(sel.port)];
  };
  const policy = (src: string, dst: string, dir: 'out' | 'in'): string[] => [
    'xfrm', 'policy', 'add', 'src', src, 'dst', dst, ...ports(dir), 'dir', dir,
    'tmpl', 'src', src, 'dst', dst, 'proto', 'esp', 'mode', 'transport', 'level', 'required',
  ];
  return [
    state(sel.local, sa.peer, sa.spiOut, sa.authKeyOut, sa.encKeyOut),
    state(sa.peer, sel.local, sa.spiIn, sa.authKeyIn, sa.encKeyIn),
    policy(sel.local, sa.peer, 'out'),
    policy(sa.peer, sel.local, 'in'),
  ];
}

/** The `ip` argv lists removing what xfrmCommands installed (at stop). */
export function xfrmRemoveCommands(sel: Selector, sa: SaSpec): string[][] {
  return xfrmCommands(sel, sa).map((c) => {
    const [obj, kind] = c;
    if (kind === 'state') {
      const i = c.indexOf('spi');
      return [obj, kind, 'delete', 'src', c[4], 'dst', c[6], 'proto', 'esp', 'spi', c[i + 1]];
    }
    const dir = c[c.indexOf('dir') + 1];
    return [obj, kind, 'delete', ...c.slice(3, c.indexOf('tmpl')).filter((_, j, a) => a[j] !== 'dir' && a[j - 1] !== 'dir'), 'dir', dir];
  });
}

export type Run = (argv: string[]) => Promise<{ ok: boolean; stderr: string }>;

/** Runs `ip` with the given arguments (no shell). */
export const runIp: Run = (argv) =>
  new Promise((resolve) => {
    execFile('ip', argv, { timeout: 5000 }, (err, _stdout, stderr) => resolve({ ok: !err, stderr: String(stderr || (err as Error | null)?.message || '') }));
  });

/**
 * Whether the kernel offers ESP: adds an SA that protects nothing (loopback to loopback, a
 * fixed SPI, no policy refers to it) and deletes it again.
 */
export async function probeEsp(run: Run = runIp): Promise<{ available: boolean; detail: string }> {
  const spi = '0x504d3601';
  const add = await run(['xfrm', 'state', 'add', 'src', '127.0.0.1', 'dst', '127.0.0.1', 'proto', 'esp', 'spi', spi, 'mode', 'transport',
    'auth', 'hmac(sha256)', `0x${'11'.repeat(32)}`, 'enc', 'cbc(aes)', `0x${'22'.repeat(16)}`]);
  if (!add.ok) return { available: false, detail: add.stderr.trim() || 'ip xfrm failed' };
  await run(['xfrm', 'state', 'delete', 'src', '127.0.0.1', 'dst', '127.0.0.1', 'proto', 'esp', 'spi', spi]);
  return { available: true, detail: 'ESP available' };
}

export interface ProtectionDecision {
  protection: SignallingProtection;
  reason: string;
  /** Undoes what was installed (nothing when unprotected). */
  remove(): Promise<void>;
}

/**
 * Decides and applies signalling protection for one role at start. Throws
 * UnprotectedSignallingError when IPsec cannot be had and unprotected signalling is not accepted.
 */
export async function protectSignalling(
  o: { sas: string[]; allowUnprotected: boolean; selector: Omit<Selector, 'carriage'> & { carriage?: Selector['carriage'] } },
  run: Run = runIp,
): Promise<ProtectionDecision> {
  const specs = o.sas.map(parseSa); // configuration errors are errors whatever the kernel
  const sel: Selector = { carriage: 'udp', ...o.selector };
  const none = async (): Promise<void> => undefined;
  const unprotected = (reason: string): ProtectionDecision => {
    if (!o.allowUnprotected) throw new UnprotectedSignallingError(reason);
    return { protection: 'unprotected', reason, remove: none };
  };
  if (specs.length === 0) return unprotected('no security.ipsecSas configured');
  const probe = await probeEsp(run);
  if (!probe.available) return unprotected(`the kernel offers no ESP (${probe.detail})`);
  const installed: SaSpec[] = [];
  for (const sa of specs) {
    installed.push(sa);
    for (const argv of xfrmCommands(sel, sa)) {
      const r = await run(argv);
      if (!r.ok) {
        for (const x of installed) for (const undo of xfrmRemoveCommands(sel, x)) await run(undo);
        return unprotected(`installing the SAs for ${sa.peer} failed (${r.stderr.trim()})`);
      }
    }
  }
  return {
    protection: 'ipsec',
    reason: `ESP transport mode with ${specs.length} peer(s)`,
    async remove() {
      for (const sa of specs) for (const argv of xfrmRemoveCommands(sel, sa)) await run(argv);
    },
  };
}
