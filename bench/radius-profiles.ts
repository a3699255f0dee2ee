// The bench's mobile nodes, shared by bench/radius.ts (FreeRADIUS users file, requests) and
// bench/radius-server.ts (our in-memory policy), so both servers hold the same profiles.
export interface BenchMn {
  mnId: string;
  hnp: string;
  hoa: string;
}

export function benchMns(n: number): BenchMn[] {
  const out: BenchMn[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      mnId: `mn${i}@example.net`,
      hnp: `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`,
      hoa: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    });
  }
  return out;
}
