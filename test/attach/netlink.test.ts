// The rtnetlink codec (src/attach/netlink.ts): request layouts (rtnetlink(7), netlink(7)) and
// parsing of link messages, acks and dumps; truncated and hostile input never throws. The
// kernel itself answers these requests in the namespace tests (access-netns.test.ts).
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RTM_NEWLINK, buildAddIpv4, buildAddLinkLocal, buildGetLinks, buildSetLinkAddress, parseNetlink } from '../../src/attach/netlink.ts';

const le = endianness() === 'LE';
const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));

function newLink(ifindex: number, flags: number, name: string, mac: number[] | null, type = RTM_NEWLINK): Buffer {
  const attrs: Buffer[] = [];
  const attr = (t: number, v: Buffer) => {
    const a = Buffer.alloc((4 + v.length + 3) & ~3);
    if (le) {
      a.writeUInt16LE(4 + v.length, 0);
      a.writeUInt16LE(t, 2);
    } else {
      a.writeUInt16BE(4 + v.length, 0);
      a.writeUInt16BE(t, 2);
    }
    v.copy(a, 4);
    attrs.push(a);
  };
  attr(3, Buffer.from(`${name}\0`));
  if (mac) attr(1, Buffer.from(mac));
  const h = Buffer.alloc(32);
  if (le) {
    h.writeUInt16LE(type, 4);
    h.writeInt32LE(ifindex, 20);
    h.writeUInt32LE(flags, 24);
  } else {
    h.writeUInt16BE(type, 4);
    h.writeInt32BE(ifindex, 20);
    h.writeUInt32BE(flags, 24);
  }
  const m = Buffer.concat([h, ...attrs]);
  if (le) m.writeUInt32LE(m.length, 0);
  else m.writeUInt32BE(m.length, 0);
  return m;
}

describe('rtnetlink codec', () => {
  it('requests: RTM_GETLINK dump, RTM_SETLINK with IFLA_ADDRESS, RTM_NEWADDR link-local without DAD', () => {
    const g = buildGetLinks(7);
    assert.deepEqual([u32(g, 0), u16(g, 4), u16(g, 6), u32(g, 8)], [32, 18, 0x301, 7]);
    const s = buildSetLinkAddress(8, 5, Buffer.from('00005e005213', 'hex'));
    assert.deepEqual([u32(s, 0), u16(s, 4), u16(s, 6), u32(s, 20)], [44, 19, 0x5, 5]);
    assert.deepEqual([u16(s, 32), u16(s, 34), s.subarray(36, 42).toString('hex')], [10, 1, '00005e005213']);
    const a = buildAddLinkLocal(9, 5, Buffer.from('fe800000000000000200' + '5efffe005213', 'hex'));
    assert.deepEqual([u16(a, 4), u16(a, 6), a[16], a[17], a[18], a[19], u32(a, 20)], [20, 0x505, 10, 64, 0x82, 253, 5]);
    assert.equal(u32(a, 0), a.length);
    const v4 = buildAddIpv4(10, 5, Buffer.from([10, 77, 0, 1]));
    assert.deepEqual([u16(v4, 4), v4[16], v4[17], v4[19], u32(v4, 20), u16(v4, 26), v4.subarray(28, 32).join('.')], [20, 2, 32, 0, 5, 2, '10.77.0.1']);
  });

  it('parses link up/down/deleted, acks with their errno and the end of a dump, in one datagram', () => {
    const up = newLink(5, 0x1 | 0x10000 | 0x40, 'acc0', [0, 0, 0x5e, 0, 0x52, 0x13]);
    const down = newLink(6, 0x1, 'acc1', null);
    const gone = newLink(7, 0x1 | 0x10000, 'acc2', null, 17);
    const ack = Buffer.alloc(36);
    const done = Buffer.alloc(20);
    if (le) {
      ack.writeUInt32LE(36, 0);
      ack.writeUInt16LE(2, 4);
      ack.writeInt32LE(-17, 16);
      ack.writeUInt32LE(42, 28);
      done.writeUInt32LE(20, 0);
      done.writeUInt16LE(3, 4);
      done.writeUInt32LE(41, 8);
    }
    if (!le) return;
    assert.deepEqual(parseNetlink(Buffer.concat([up, down, gone, ack, done])), [
      { kind: 'link', deleted: false, ifindex: 5, ifname: 'acc0', mac: '00:00:5e:00:52:13', up: true },
      { kind: 'link', deleted: false, ifindex: 6, ifname: 'acc1', mac: null, up: false },
      { kind: 'link', deleted: true, ifindex: 7, ifname: 'acc2', mac: null, up: false },
      { kind: 'ack', seq: 42, error: 17 },
      { kind: 'done', seq: 41 },
    ]);
  });

  it('hostile datagrams never throw; a truncated message ends the parse', () => {
    const up = newLink(5, 0x10001, 'acc0', null);
    for (let n = 0; n < up.length; n++) parseNetlink(up.subarray(0, n));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void parseNetlink(Buffer.from(b))), { numRuns: 3000 });
  });
});
