// The PMIPv6 domain the data-plane end-to-end tests build in namespaces: an LMA, two MAGs and a
// correspondent node (CN), each on its own link to the LMA namespace, which routes between
// them. Addresses come from one /48 per test ("2001:db8:d1" gives LMAA 2001:db8:d1::1, MAG1
// 2001:db8:d1:1::2, MAG2 2001:db8:d1:2::2, CN 2001:db8:d1:c::2), so tests running side by
// side never share an address.
import type { Lab, Netns } from './netns.ts';

export interface PmipDomain {
  lma: Netns;
  mag1: Netns;
  mag2: Netns;
  cn: Netns;
  /** The LMA's interface towards the CN, and the CN's own (for IPv4 on the same link). */
  lmaToCn: string;
  cnIf: string;
  addr: { lmaa: string; mag1: string; mag2: string; cn: string };
  /** The veth ends of the MAG-LMA links (for IPv4 transport addresses on the same links). */
  links: { lmaToMag1: string; mag1: string; lmaToMag2: string; mag2: string };
}

export function buildPmipDomain(lab: Lab, net: string): PmipDomain {
  const addr = { lmaa: `${net}::1`, mag1: `${net}:1::2`, mag2: `${net}:2::2`, cn: `${net}:c::2` };
  const lma = lab.ns('lma');
  const mag1 = lab.ns('mag1');
  const mag2 = lab.ns('mag2');
  const cn = lab.ns('cn');
  const [l1, m1if] = lab.link(lma, mag1);
  const [l2, m2if] = lab.link(lma, mag2);
  const [lc, cnIf] = lab.link(lma, cn);
  lma.addAddress('lo', `${addr.lmaa}/128`);
  lma.addAddress(l1, `${net}:1::1/64`);
  lma.addAddress(l2, `${net}:2::1/64`);
  lma.addAddress(lc, `${net}:c::1/64`);
  mag1.addAddress(m1if, `${addr.mag1}/64`);
  mag2.addAddress(m2if, `${addr.mag2}/64`);
  mag1.ip('-6', 'route', 'add', `${addr.lmaa}/128`, 'via', `${net}:1::1`);
  mag2.ip('-6', 'route', 'add', `${addr.lmaa}/128`, 'via', `${net}:2::1`);
  cn.addAddress(cnIf, `${addr.cn}/64`);
  cn.ip('-6', 'route', 'add', 'default', 'via', `${net}:c::1`);
  return { lma, mag1, mag2, cn, lmaToCn: lc, cnIf, addr, links: { lmaToMag1: l1, mag1: m1if, lmaToMag2: l2, mag2: m2if } };
}
