// Diameter test helpers: a raw peer over a real socket (to send exactly the bytes a test wants
// and read framed answers), certificates made with Debian's openssl, and message builders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvpWriter, decodeMessage, findAvp, type DiameterMessage } from '../../src/diameter/codec.ts';
import { buildCer, type LocalNode } from '../../src/diameter/build.ts';
import { App, Avp, AuthRequestType, Cmd, CmdFlag } from '../../src/diameter/constants.ts';
import { Framer } from '../../src/diameter/framer.ts';
import { decU32 } from '../../src/diameter/values.ts';

export const REALM = 'example.net';
export const SERVER_ID = 'aaa.example.net';

export const localNode = (host: string, originStateId = 1): LocalNode => ({
  originHost: host, originRealm: REALM, hostIpAddresses: ['127.0.0.1'], vendorId: 0, productName: 'test',
  firmwareRevision: 1, originStateId, authApplicationIds: [App.Nasreq],
});

/** A peer that speaks raw bytes over TCP and collects what comes back, framed. */
export class RawPeer {
  readonly received: DiameterMessage[] = [];
  closed = false;
  private readonly framer = new Framer(1 << 20);
  private waiters: (() => void)[] = [];
  private hbh = 1;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      for (const m of this.framer.push(d).messages) {
        const x = decodeMessage(Buffer.from(m));
        if (x.ok) this.received.push(x.value);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, localAddress }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  nextHbh(): number {
    return this.hbh++;
  }

  send(b: Buffer | Uint8Array): void {
    this.socket.write(b);
  }

  /** Waits until `pred` holds over what was received (or the socket closed), at most `ms`. */
  async until(pred: (r: DiameterMessage[]) => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.received)) {
      if (this.closed) throw new Error(`closed; received ${this.received.map((m) => m.commandCode).join(',')}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${this.received.map((m) => `${m.commandCode}/${resultCode(m)}`).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    if (!this.closed) throw new Error('still open');
  }

  /** CER → CEA; resolves with the CEA's Result-Code. */
  async exchangeCapabilities(host: string, originStateId = 1): Promise<number | null> {
    const n = this.received.length;
    this.send(buildCer(localNode(host, originStateId), { hopByHop: this.nextHbh(), endToEnd: this.nextHbh() }, '127.0.0.1'));
    await this.until((r) => r.length > n);
    return resultCode(this.received[n]);
  }

  /** Sends a request and waits for the answer with its Hop-by-Hop Identifier. */
  async request(b: Buffer): Promise<DiameterMessage> {
    const hbh = b.readUInt32BE(12);
    this.send(b);
    await this.until((r) => r.some((m) => m.hopByHop === hbh && !(m.flags & CmdFlag.R)));
    return this.received.find((m) => m.hopByHop === hbh && !(m.flags & CmdFlag.R))!;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function resultCode(m: DiameterMessage): number | null {
  const a = findAvp(m.avps, Avp.ResultCode);
  return a ? decU32(a.data) : null;
}

export interface AarFields {
  hopByHop: number;
  endToEnd?: number;
  sessionId: string;
  originHost: string;
  userName?: string;
  authRequestType?: number;
  flags?: number;
  fill?: (w: AvpWriter) => void;
}

/** An AA-Request (RFC 7155 §3.1). */
export function aar(f: AarFields): Buffer {
  const w = new AvpWriter({ flags: f.flags ?? CmdFlag.R | CmdFlag.P, commandCode: Cmd.AA, applicationId: App.Nasreq, hopByHop: f.hopByHop, endToEnd: f.endToEnd ?? f.hopByHop });
  w.utf8(Avp.SessionId, f.sessionId);
  w.u32(Avp.AuthApplicationId, App.Nasreq);
  w.utf8(Avp.OriginHost, f.originHost);
  w.utf8(Avp.OriginRealm, REALM);
  w.utf8(Avp.DestinationRealm, REALM);
  w.u32(Avp.AuthRequestType, f.authRequestType ?? AuthRequestType.AuthorizeOnly);
  if (f.userName) w.utf8(Avp.UserName, f.userName);
  f.fill?.(w);
  return Buffer.from(w.bytes());
}

export interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** name → { cert, key } for client certificates (CN and DNS SAN = name). */
  clients: Record<string, { cert: string; key: string }>;
  cleanup(): void;
}

/** A CA, a server certificate (DNS and IP SANs) and client certificates, made with openssl. */
export function makeCerts(serverName: string, clientNames: string[], serverIp = '127.0.0.1'): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-dia-certs-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pmip6 test CA']);
  const issue = (name: string, san: string): { cert: string; key: string } => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
    run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  };
  const server = issue(serverName, `DNS:${serverName},IP:${serverIp}`);
  const clients: Certs['clients'] = {};
  for (const c of clientNames) clients[c] = issue(c, `DNS:${c}`);
  return { dir, ca: join(dir, 'ca.pem'), serverCert: server.cert, serverKey: server.key, clients, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Waits for a condition (bounded; tests check outcomes, not speed). */
export async function until<T>(what: string, f: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
