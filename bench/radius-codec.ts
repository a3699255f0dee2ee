// `node --import tsx bench/radius-codec.ts`: per-request codec cost, our codec vs the `radius`
// package, for what the server does with each Access-Request: decode, verify the
// Message-Authenticator, encode an Access-Accept with the RFC 6572 profile (Message-Authenticator
// included). The decision to replace the package rests on this and on correctness (codec.ts).
import { AttrWriter } from '../src/radius/attrs.ts';
import { decodePacket, encodeRequest, encodeResponse, verifyRequestMessageAuthenticator } from '../src/radius/codec.ts';
import { Attr, Code } from '../src/radius/constants.ts';
import { pkgAnswer } from '../src/radius/pkg-codec.ts';

export async function run(args: string[]): Promise<void> {
  const n = Number(args.find((a) => a.startsWith('--n='))?.slice(4) ?? 200_000);
  const secret = 'bench-secret-0123';
  const S = Buffer.from(secret);
  const req = encodeRequest(Code.AccessRequest, 7, new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag1').text(Attr.ServiceSelection, 'internet').bytes(), S).packet;
  const w = new AttrWriter()
    .text(Attr.MobileNodeIdentifier, 'mn1@example.net').text(Attr.ServiceSelection, 'internet')
    .ipv6(Attr.Pmip6HomeLmaIpv6Address, '2001:db8::1').ipv6Prefix(Attr.Pmip6HomeHnPrefix, '2001:db8:1:1::/64')
    .ipv4Prefix(Attr.Pmip6HomeIpv4HoA, '10.0.0.5', 24, true).ipv4(Attr.Pmip6HomeIpv4Gateway, '10.0.0.1')
    .integer64(Attr.Mip6FeatureVector, 0x0000030000000000n);
  const block = w.bytes();
  // The same attributes as [type, value] for the package (it has no codecs for these types).
  const list: [number, Buffer][] = [];
  for (let o = 0; o < block.length; o += block[o + 1]) list.push([block[o], block.subarray(o + 2, o + block[o + 1])]);

  const ours = (): Buffer => {
    const d = decodePacket(req);
    if (!d.ok || !verifyRequestMessageAuthenticator(d.packet, S)) throw new Error('bad');
    return encodeResponse(Code.AccessAccept, d.packet.identifier, d.packet.authenticator, block, S, true);
  };
  const theirs = (): Buffer => pkgAnswer(req, secret, list.slice());

  process.removeAllListeners('warning'); // the package uses the deprecated Buffer() constructor
  for (const [name, f] of [['ours', ours], ['radius@1.1.4', theirs]] as const) {
    for (let i = 0; i < 20_000; i++) f();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    const ns = Number(process.hrtime.bigint() - t0) / n;
    console.log(`${name.padEnd(14)} ${(ns / 1000).toFixed(2)} µs per Access-Request → Accept (${(1e9 / ns).toFixed(0)}/s on one core)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
