// The profile directory's compact entries (src/store/compact-profile.ts): a packed profile
// expands to an equal Profile (every field, dates to the millisecond, the optional interfaceId
// present or absent as it was), shares its strings and the records most profiles have in common,
// and the table of shared records stays bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactProfile, ProfilePacker, expand } from '../../src/store/compact-profile.ts';
import type { Profile } from '../../src/policy/profile.ts';

function profile(i: number, o: Partial<Profile> = {}): Profile {
  return {
    id: i, mnId: `mn${i}@example.net`, mnLinkLayerIds: [], hnps: [`2001:db8:${i.toString(16)}::/64`], hnpPool: null,
    ipv4HoA: null, ipv4PrefixLength: null, ipv4Pool: null, ipv4DefaultRouter: null, lma: null, lmaGroup: null,
    serviceSelection: null, greKeyPolicy: 'none', dhcpv4Server: null, dhcpv6Server: null, interfaceId: null,
    mip6FeatureVector: 0n, enabled: true, createdAt: new Date(1_765_000_000_123 + i), updatedAt: new Date(1_765_000_500_999 + i), ...o,
  };
}

describe('compact profile', () => {
  const packer = new ProfilePacker();

  it('expands to an equal profile, whatever the fields hold', () => {
    const cases: Profile[] = [
      profile(1),
      profile(2, { hnps: [], hnpPool: 'pool6', ipv4HoA: '10.1.2.3', ipv4PrefixLength: 24, ipv4Pool: 'pool4', ipv4DefaultRouter: '10.1.2.1' }),
      profile(3, { hnps: ['2001:db8:3::/64', '2001:db8:3:1::/64'], mnLinkLayerIds: ['02:00:00:00:00:03', '02:00:00:00:00:13'] }),
      profile(4, { lma: '2001:db8::1', lmaGroup: 'g', serviceSelection: 'ims', greKeyPolicy: 'required', dhcpv4Server: '10.0.0.53' }),
      profile(5, { dhcpv6Server: '2001:db8::53', interfaceId: '0200:5eff:fe00:5213', mip6FeatureVector: 0xffff_ffff_ffff_ffffn, enabled: false }),
      profile(6, { createdAt: new Date(0), updatedAt: new Date(-86_400_001) }),
      profile(7, { createdAt: new Date(8.64e15), updatedAt: new Date(-8.64e15) }),
    ];
    for (const p of cases) assert.deepEqual(expand(packer.pack(p)), p, p.mnId);
  });

  it('reads dates back to the millisecond at the edges of the packed range and beyond it', () => {
    const edge = 2 ** 45; // the year 3084: the highest hi that shares a field
    for (const [c, u] of [[0, 0], [edge - 1, 0], [0, edge - 1], [edge, 1], [-1, 5], [1_765_000_000_123, 1_765_000_000_123 + 40 * 86_400_000]]) {
      const p = profile(20, { createdAt: new Date(c), updatedAt: new Date(u) });
      const e = packer.pack(p);
      assert.equal(e.createdMs, c);
      assert.equal(e.updatedMs, u);
      assert.deepEqual(expand(e), p);
    }
  });

  it('holds no record for the IPv4 HoA and link-layer identifiers while a profile has neither', () => {
    const plain = packer.pack(profile(21));
    assert.equal((plain as unknown as { rare: unknown }).rare, null);
    assert.equal(plain.ipv4HoA, null);
    assert.deepEqual(plain.mnLinkLayerIds, []);
    const v4 = packer.pack(profile(22, { ipv4HoA: '10.0.0.22' }));
    assert.deepEqual([v4.ipv4HoA, v4.mnLinkLayerIds], ['10.0.0.22', []]);
    const ll = packer.pack(profile(23, { mnLinkLayerIds: ['02:00:00:00:00:23'] }));
    assert.deepEqual([ll.ipv4HoA, ll.mnLinkLayerIds], [null, ['02:00:00:00:00:23']]);
  });

  it('keeps an absent interfaceId absent', () => {
    const p = profile(8);
    delete p.interfaceId;
    const back = expand(packer.pack(p));
    assert.equal('interfaceId' in back, false);
    assert.deepEqual(back, p);
  });

  it('holds one HNP as the string itself and shares it, and the MN-ID', () => {
    const p = profile(9);
    const e = packer.pack(p);
    assert.equal(e.hnp, p.hnps[0]);
    assert.equal(e.mnId, p.mnId);
    assert.equal(packer.pack(profile(9, { hnps: [] })).hnp, null);
  });

  it('reads as the profile it packs, field by field (the view hot paths use)', () => {
    const p = profile(17, { hnps: ['2001:db8:17::/64', '2001:db8:17:1::/64'], ipv4HoA: '10.0.0.17', lma: '2001:db8::1', greKeyPolicy: 'optional', mip6FeatureVector: 5n });
    const e = packer.pack(p);
    for (const k of Object.keys(p) as (keyof Profile)[]) assert.deepEqual(e[k], p[k], k);
  });

  it('gives a fresh object on each expansion', () => {
    const e = packer.pack(profile(10));
    const a = expand(e);
    const b = expand(e);
    assert.notEqual(a, b);
    assert.notEqual(a.createdAt, b.createdAt);
    assert.deepEqual(a, b);
  });

  it('shares one record among profiles with the same common fields, bounded', () => {
    const small = new ProfilePacker(2);
    const a = small.pack(profile(11));
    const b = small.pack(profile(12));
    assert.equal(a.shared, b.shared, 'same pools, LMA, features: one record');
    const c = small.pack(profile(13, { serviceSelection: 'ims' }));
    assert.notEqual(c.shared, a.shared);
    assert.equal(small.sharedRecords, 2);
    const d = small.pack(profile(14, { serviceSelection: 'internet' }));
    const e = small.pack(profile(15, { serviceSelection: 'internet' }));
    assert.equal(small.sharedRecords, 2, 'full: not interned');
    assert.notEqual(d.shared, e.shared);
    assert.equal(expand(e).serviceSelection, 'internet');
    small.clear();
    assert.equal(small.sharedRecords, 0);
  });

  it('keeps the times as small integers', () => {
    const e: CompactProfile = packer.pack(profile(16));
    assert.equal(e.createdMs, 1_765_000_000_139);
    assert.equal(e.updatedMs, 1_765_000_501_015);
    for (const v of Object.values(e)) if (typeof v === 'number') assert.ok(Number.isInteger(v) && Math.abs(v) < 2 ** 30, `${v} is a small integer`);
  });
});
