// Packet captures inside a test namespace (dumpcap) and their decoding by tshark, the wire
// oracle. tshark does not verify Mobility Header checksums, so `mhFrames` hands back each
// MH's octets with the IPv6 addresses around it and `mhChecksumOk` checks it here, with
// its own one's complement sum over the IPv6 pseudo-header (RFC 6275 §6.1.1, RFC 8200 §8.1).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { Lab, Netns } from './netns.ts';

export const TSHARK = '/usr/bin/tshark';
const DUMPCAP = '/usr/bin/dumpcap';

export class Capture {
  /**
   * Starts dumpcap on `iface` (default: every interface) in `ns`. It says "Capturing on"
   * before it really captures, and hands packets over in blocks: so both start and stop
   * wait until a marker datagram (sent by `probe`, e.g. UDP to [::1]:9, see ns-agent's
   * probe op) is in the file, which proves that everything before it is there too.
   */
  static async start(lab: Lab, ns: Netns, file: string, probe: (marker: string) => Promise<unknown>, iface = 'any'): Promise<Capture> {
    const child = lab.track(ns.spawn(DUMPCAP, ['-i', iface, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const c = new Capture(child, file, probe);
    child.stderr!.on('data', (d) => (c.err += d));
    await c.mark();
    return c;
  }

  private err = '';
  private marks = 0;
  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
    private readonly probe: (marker: string) => Promise<unknown>,
  ) {}

  private async mark(): Promise<void> {
    const marker = `pmip6-capture-mark-${process.pid}-${this.marks++}`;
    const needle = Buffer.from(marker);
    const end = Date.now() + 20_000;
    for (let i = 0; ; i++) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`dumpcap exited: ${this.err}`);
      if (Date.now() > end) throw new Error(`capture never saw its marker: ${this.err}`);
      if (this.err.includes('Capturing on') && i % 5 === 0) await this.probe(marker);
      if (existsSync(this.file) && readFileSync(this.file).includes(needle)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the capture once everything sent so far is in the file (SIGINT: dumpcap closes it). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.mark();
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGINT');
    await done;
  }
}

export function tshark(args: string[]): string {
  return execFileSync(TSHARK, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Frames (matching `scope`) tshark marks malformed or with expert errors: empty for a clean capture. */
export function problems(file: string, scope?: string): string[] {
  const bad = '(_ws.malformed || _ws.expert.severity >= error)';
  return tshark(['-r', file, '-Y', scope ? `(${scope}) && ${bad}` : bad, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.col.Info'])
    .split('\n')
    .filter(Boolean);
}

export interface MhFrame {
  frame: number;
  src: string;
  dst: string;
  /** The Mobility Header's octets as captured. */
  mh: Buffer;
  /** Every field tshark decoded in the MH, by name (repeated fields as arrays). */
  f: Record<string, string | string[]>;
}

type Json = { [k: string]: Json } | Json[] | string;

function collect(node: Json, out: Record<string, string | string[]>): void {
  if (typeof node === 'string' || Array.isArray(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (k.endsWith('_raw')) continue;
    if (typeof v === 'string') {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    } else {
      collect(v, out);
    }
  }
}

/** Every IPv6 Mobility Header frame (protocol 135) of a capture, decoded by tshark. */
export function mhFrames(file: string, filter = 'mipv6 && ipv6'): MhFrame[] {
  const frames = JSON.parse(tshark(['-r', file, '-Y', filter, '-T', 'json', '-x'])) as { _source: { layers: Record<string, Json> } }[];
  return frames.map((fr) => {
    const l = fr._source.layers;
    const ip = l.ipv6 as Record<string, Json>;
    // tshark nests the MH (an IPv6 extension header) inside the ipv6 layer.
    const raw = ip.mipv6_raw as unknown as [string, ...unknown[]];
    const f: Record<string, string | string[]> = {};
    collect(ip.mipv6, f);
    return {
      frame: Number((l.frame as Record<string, string>)['frame.number']),
      src: ip['ipv6.src'] as string,
      dst: ip['ipv6.dst'] as string,
      mh: Buffer.from(raw[0], 'hex'),
      f,
    };
  });
}

function addr16(text: string): Buffer {
  if (!isIPv6(text)) throw new TypeError(`not IPv6: ${text}`);
  const [head, tail] = text.split('::');
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** True when the MH's checksum is right for these addresses: the sum over pseudo-header and MH folds to 0xffff. */
export function mhChecksumOk(src: string, dst: string, mh: Buffer): boolean {
  const pseudo = Buffer.alloc(40);
  addr16(src).copy(pseudo, 0);
  addr16(dst).copy(pseudo, 16);
  pseudo.writeUInt32BE(mh.length, 32);
  pseudo[39] = 135;
  let acc = 0;
  for (const b of [pseudo, mh]) {
    for (let i = 0; i < b.length; i += 2) acc += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  }
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc === 0xffff;
}
