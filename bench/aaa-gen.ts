// Load generator for bench/diameter.ts, in its own process: keeps `window` requests in flight on
// each of `connections` Diameter connections (AAR → AAA, RFC 5779 §4.1, after CER/CEA) or RADIUS
// sockets (Access-Request → Access-Accept, RFC 6572 §5.1), over MNs spread across the profiles,
// and prints one JSON line: requests answered with success, failures, elapsed ms.
// argv[2]: JSON { proto, port, connections, window, requests, profiles, secret? }.
import dgram from 'node:dgram';
import net from 'node:net';
import { AvpWriter, decodeMessage, findAvp } from '../src/diameter/codec.ts';
import { buildCer } from '../src/diameter/build.ts';
import { App, Avp, AuthRequestType, AuthSessionState, Cmd, CmdFlag } from '../src/diameter/constants.ts';
import { Framer } from '../src/diameter/framer.ts';
import { AttrWriter } from '../src/radius/attrs.ts';
import { encodeRequest } from '../src/radius/codec.ts';
import { Attr, Code, ServiceType } from '../src/radius/constants.ts';

interface Cfg {
  proto: 'diameter' | 'radius';
  port: number;
  connections: number;
  window: number;
  requests: number;
  profiles: number;
  secret?: string;
}
const cfg = JSON.parse(process.argv[2]) as Cfg;
const FV = 0x0000030000000000n;

/**
 * MN indices spread over the profiles (32-bit LCG, as bench/radius.ts). Connection i of n draws
 * from its own share (MNs i, i + n, ...): each MN is served by one MAG, as in a deployment.
 */
function mnSequence(seed: number, i: number): () => number {
  let x = seed;
  const share = Math.max(1, Math.floor(cfg.profiles / cfg.connections));
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return (x % share) * cfg.connections + i;
  };
}

async function diameterConnection(i: number, quota: number): Promise<{ ok: number; bad: number }> {
  const identity = `gen${i}.example.net`;
  const sock = net.connect(cfg.port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise<void>((res, rej) => sock.once('connect', () => res()).once('error', rej));
  const framer = new Framer(1 << 20);
  const next = mnSequence(12345 + i * 7919, i);
  let hbh = 1;
  let sent = 0;
  let ok = 0;
  let bad = 0;
  let opened = false;
  const aar = (): Buffer => {
    const mn = next();
    const w = new AvpWriter({ flags: CmdFlag.R | CmdFlag.P, commandCode: Cmd.AA, applicationId: App.Nasreq, hopByHop: hbh, endToEnd: hbh }, 320);
    hbh++;
    w.utf8(Avp.SessionId, `${identity};1;${mn}`).u32(Avp.AuthApplicationId, App.Nasreq).utf8(Avp.OriginHost, identity).utf8(Avp.OriginRealm, 'example.net');
    w.utf8(Avp.DestinationRealm, 'example.net').u32(Avp.AuthRequestType, AuthRequestType.AuthorizeOnly).utf8(Avp.NasIdentifier, identity).u32(Avp.NasPortType, 5);
    w.utf8(Avp.UserName, `mn${mn}@example.net`).u32(Avp.AuthSessionState, AuthSessionState.StateMaintained).utf8(Avp.ServiceSelection, 'internet').u64(Avp.Mip6FeatureVector, FV);
    return Buffer.from(w.bytes());
  };
  return new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`connection ${i} closed after ${ok + bad}/${quota}`)));
    sock.on('data', (d: Buffer) => {
      const out: Buffer[] = [];
      for (const m of framer.push(d).messages) {
        if (!opened) {
          opened = true;
          for (; sent < Math.min(cfg.window, quota); sent++) out.push(aar());
          continue;
        }
        const x = decodeMessage(m);
        const a = x.ok ? findAvp(x.value.avps, Avp.ResultCode) : undefined;
        const rc = a ? a.data.readUInt32BE(0) : 0;
        if (rc === 2001) ok++;
        else bad++;
        if (sent < quota) {
          out.push(aar());
          sent++;
        }
      }
      if (out.length) sock.write(out.length === 1 ? out[0] : Buffer.concat(out));
      if (ok + bad === quota) {
        sock.removeAllListeners('close');
        sock.destroy();
        resolve({ ok, bad });
      }
    });
    sock.write(buildCer({ originHost: identity, originRealm: 'example.net', hostIpAddresses: ['127.0.0.1'], vendorId: 0, productName: 'bench', firmwareRevision: 1, originStateId: 1, authApplicationIds: [App.Nasreq] }, { hopByHop: 0, endToEnd: 0 }, '127.0.0.1'));
  });
}

async function radiusSocket(i: number, quota: number): Promise<{ ok: number; bad: number }> {
  const secret = Buffer.from(cfg.secret ?? '');
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const next = mnSequence(12345 + i * 7919, i);
  const window = Math.min(cfg.window, 255);
  let id = 0;
  let sent = 0;
  let ok = 0;
  let bad = 0;
  const inflight = new Map<number, Buffer>();
  const send = (): void => {
    const mn = next();
    const w = new AttrWriter(160);
    w.text(Attr.UserName, `mn${mn}@example.net`);
    w.text(Attr.NasIdentifier, `gen${i}`);
    w.integer(Attr.ServiceType, ServiceType.Login);
    w.text(Attr.ServiceSelection, 'internet');
    while (inflight.has(id)) id = (id + 1) & 0xff;
    const { packet } = encodeRequest(Code.AccessRequest, id, w.bytes(), secret, true);
    inflight.set(id, packet);
    id = (id + 1) & 0xff;
    sent++;
    sock.send(packet, cfg.port, '127.0.0.1');
  };
  return new Promise((resolve) => {
    let progress = Date.now();
    const stall = setInterval(() => {
      // A datagram lost on loopback (socket buffer full): send what is outstanding again.
      if (Date.now() - progress > 1000) for (const p of inflight.values()) sock.send(p, cfg.port, '127.0.0.1');
    }, 500);
    sock.on('message', (m) => {
      if (!inflight.delete(m[1])) return;
      progress = Date.now();
      if (m[0] === Code.AccessAccept) ok++;
      else bad++;
      if (sent < quota) send();
      if (ok + bad === quota) {
        clearInterval(stall);
        sock.close();
        resolve({ ok, bad });
      }
    });
    for (let k = 0; k < Math.min(window, quota); k++) send();
  });
}

const per = Math.floor(cfg.requests / cfg.connections);
const t0 = process.hrtime.bigint();
const rs = await Promise.all(Array.from({ length: cfg.connections }, (_, i) => (cfg.proto === 'diameter' ? diameterConnection(i, per) : radiusSocket(i, per))));
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(`${JSON.stringify({ ok: rs.reduce((a, r) => a + r.ok, 0), bad: rs.reduce((a, r) => a + r.bad, 0), ms })}\n`);
process.exit(0);
