// Wireshark's RADIUS dissector as an independent decoder: our server's replies (Accept,
// Reject, Accounting-Response, Status-Server answers) are written to a pcap together with
// the requests, and tshark checks the Response Authenticators with the shared secret
// (RFC 2865 §3) and decodes the RFC 6572 attributes without malformed-packet warnings.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { decodePacket, encodeRequest, encodeResponse } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { SECRET, startServer } from './helpers.ts';

const S = Buffer.from(SECRET);

interface Frame {
  src: number;
  dst: number;
  payload: Buffer;
}

/** pcap (LINKTYPE_RAW = 101) of IPv4/UDP datagrams between 127.0.0.1 ports. */
function pcap(frames: Frame[]): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(101, 20);
  parts.push(gh);
  frames.forEach((f, i) => {
    const ip = Buffer.alloc(28);
    const total = 28 + f.payload.length;
    ip[0] = 0x45;
    ip.writeUInt16BE(total, 2);
    ip.writeUInt16BE(i + 1, 4);
    ip.writeUInt16BE(0x4000, 6);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    let sum = 0;
    for (let j = 0; j < 20; j += 2) sum += ip.readUInt16BE(j);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    ip.writeUInt16BE(f.src, 20);
    ip.writeUInt16BE(f.dst, 22);
    ip.writeUInt16BE(8 + f.payload.length, 24); // UDP checksum 0: none (RFC 768)
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + i, 0);
    rh.writeUInt32LE(total, 8);
    rh.writeUInt32LE(total, 12);
    parts.push(rh, ip, f.payload);
  });
  return Buffer.concat(parts);
}

function tshark(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describe('tshark decodes and validates our replies', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  let dir: string;
  before(async () => {
    ctx = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'radius-tshark-'));
  });
  after(async () => {
    await ctx.server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('RFC 2865 §3: Response Authenticators valid with the shared secret; RFC 6572 attributes decoded', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const me = sock.address().port;
    const frames: Frame[] = [];
    const ask = (port: number, pkt: Buffer): Promise<Buffer> => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply')), 2000);
      sock.once('message', (m) => {
        clearTimeout(t);
        frames.push({ src: me, dst: port, payload: pkt }, { src: port, dst: me, payload: m });
        resolve(m);
      });
      sock.send(pkt, port, '127.0.0.1');
    });
    try {
      const nas = (w: AttrWriter): AttrWriter => w.text(Attr.NasIdentifier, 'mag1');
      await ask(ctx.auth, encodeRequest(Code.AccessRequest, 1, nas(new AttrWriter().text(Attr.UserName, 'mn1@example.net')).integer64(Attr.Mip6FeatureVector, 0x0000030000000000n).bytes(), S).packet);
      await ask(ctx.auth, encodeRequest(Code.AccessRequest, 2, nas(new AttrWriter().text(Attr.UserName, 'nobody@example.net')).bytes(), S).packet);
      await ask(ctx.acct, encodeRequest(Code.AccountingRequest, 3, nas(new AttrWriter().integer(Attr.AcctStatusType, 1).text(Attr.AcctSessionId, 'ts-1').text(Attr.UserName, 'mn1@example.net')).bytes(), S).packet);
      await ask(ctx.auth, encodeRequest(Code.StatusServer, 4, Buffer.alloc(0), S).packet);
      await ask(ctx.acct, encodeRequest(Code.StatusServer, 5, Buffer.alloc(0), S).packet);
    } finally {
      sock.close();
    }
    // Negative control: a reply signed with another secret must show as invalid.
    const req = encodeRequest(Code.AccessRequest, 6, new AttrWriter().text(Attr.UserName, 'x').bytes(), S);
    const forged = encodeResponse(Code.AccessAccept, 6, req.authenticator, Buffer.alloc(0), Buffer.from('other-secret'));
    frames.push({ src: me, dst: ctx.auth, payload: req.packet }, { src: ctx.auth, dst: me, payload: forged });
    assert.ok(decodePacket(forged).ok);

    const file = join(dir, 'replies.pcap');
    await writeFile(file, pcap(frames));
    const common = ['-n', '-r', file, '-d', `udp.port==${ctx.auth},radius`, '-d', `udp.port==${ctx.acct},radius`, '-o', `radius.shared_secret:${SECRET}`, '-o', 'radius.validate_authenticator:TRUE'];
    const out = await tshark([...common, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'radius.code', '-e', 'radius.authenticator.valid', '-e', 'radius.authenticator.invalid',
      '-e', 'radius.PMIP6_Home_HN_Prefix', '-e', 'radius.PMIP6_Home_LMA_IPv6_Address', '-e', 'radius.PMIP6_Home_IPv4_HoA', '-e', 'radius.Message_Authenticator']);
    const rows = out.trim().split('\n').map((l) => l.split('|'));
    const replies = rows.filter((r) => ['2', '3', '5'].includes(r[1]));
    assert.equal(replies.length, 6, out);
    const ours = replies.slice(0, 5);
    // tshark 4.0 does not check answers to Status-Server (ours[3], ours[4]); radclient does (radclient.test.ts).
    for (const r of ours.slice(0, 3)) assert.ok(r[2] === '1' && r[3] === '0', `frame ${r[0]} authenticator not valid: ${r.join('|')}`);
    for (const r of ours.slice(3)) assert.notEqual(r[3], '1', `frame ${r[0]} flagged invalid`);
    for (const r of ours.filter((x) => x[1] !== '5')) assert.notEqual(r[7], '', `frame ${r[0]} lacks Message-Authenticator`);
    const forgedRow = replies[5];
    assert.ok(forgedRow[3] === '1' && forgedRow[2] === '0', `forged reply must be flagged invalid: ${forgedRow.join('|')}`);
    const accept = ours[0];
    assert.equal(accept[1], '2');
    // tshark 4.0 shows the raw ipv6prefix value: Reserved, Prefix-Length, only the needed octets.
    assert.equal(accept[4], '004020010db800010001,003020010db80002');
    assert.equal(accept[6], '00180a000005', 'IPv4 HoA 10.0.0.5/24 with its host bits');
    assert.equal(accept[5], '2001:db8::1');
    assert.equal(ours[1][1], '3', 'second reply is the Access-Reject');

    const malformed = await tshark([...common, '-Y', '_ws.malformed || _ws.expert.severity >= error']);
    // Only the forged frame may raise an expert error (invalid authenticator).
    const bad = malformed.trim().split('\n').filter((l) => l.trim() !== '');
    assert.ok(bad.length <= 1, malformed);
  });
});
