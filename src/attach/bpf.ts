// The classic BPF program (Linux socket filter, `struct sock_filter`) the access-link packet
// socket runs in the kernel: only IPv6 frames carrying ICMPv6 types 130..136 (MLDv1,
// Router/Neighbor Discovery) or 143 (MLDv2 report), directly or behind one 8-octet Hop-by-Hop
// header (the Router Alert of MLD, RFC 3810 §5), and unfragmented IPv4 UDP to port 67 (a
// DHCPv4 client, RFC 2131 §4.1; RFC 5844 §3.4) and ARP (RFC 826: an IPv4 host with a static
// address, and the answers to the MAG's ARP probes) reach JavaScript. Everything else an access
// link carries (the MN's data) stays in the kernel. Offsets are into the Ethernet frame.
import { endianness } from 'node:os';

// Opcodes (linux/filter.h, classic BPF).
const LD_B_ABS = 0x30;
const LD_H_ABS = 0x28;
const LD_H_IND = 0x48;
const LDX_B_MSH = 0xb1;
const JMP_JSET_K = 0x45;
const JMP_JA = 0x05;
const JMP_JEQ_K = 0x15;
const JMP_JGT_K = 0x25;
const JMP_JGE_K = 0x35;
const RET_K = 0x06;

type Insn = { code: number; k: number; jt?: string; jf?: string; ja?: string; label?: string };

function assemble(prog: Insn[]): Buffer {
  const at = new Map<string, number>();
  prog.forEach((p, i) => p.label && at.set(p.label, i));
  const rel = (i: number, label: string | undefined): number => {
    if (label === undefined) return 0;
    const t = at.get(label);
    if (t === undefined || t <= i) throw new Error(`bpf: bad label ${label}`);
    return t - i - 1;
  };
  const b = Buffer.alloc(prog.length * 8);
  const le = endianness() === 'LE';
  prog.forEach((p, i) => {
    const k = p.ja !== undefined ? rel(i, p.ja) : p.k;
    if (le) {
      b.writeUInt16LE(p.code, i * 8);
      b.writeUInt32LE(k >>> 0, i * 8 + 4);
    } else {
      b.writeUInt16BE(p.code, i * 8);
      b.writeUInt32BE(k >>> 0, i * 8 + 4);
    }
    b[i * 8 + 2] = rel(i, p.jt);
    b[i * 8 + 3] = rel(i, p.jf);
  });
  return b;
}

/** The filter as the bytes of a `struct sock_filter[]` in host byte order. */
export function accessLinkFilter(): Buffer {
  return assemble([
    { code: LD_H_ABS, k: 12 },
    { code: JMP_JEQ_K, k: 0x0800, jt: 'ipv4' },
    { code: JMP_JEQ_K, k: 0x0806, jt: 'arp' },
    { code: JMP_JEQ_K, k: 0x86dd, jf: 'drop' },
    { code: LD_B_ABS, k: 20 }, // IPv6 Next Header
    { code: JMP_JEQ_K, k: 58, jt: 'icmp54' },
    { code: JMP_JEQ_K, k: 0, jf: 'drop' }, // Hop-by-Hop
    { code: LD_B_ABS, k: 55 },
    { code: JMP_JEQ_K, k: 0, jf: 'drop' }, // Hdr Ext Len 0: 8 octets
    { code: LD_B_ABS, k: 54 },
    { code: JMP_JEQ_K, k: 58, jf: 'drop' },
    { code: LD_B_ABS, k: 62 },
    { code: JMP_JA, k: 0, ja: 'type' },
    { code: LD_B_ABS, k: 54, label: 'icmp54' },
    { code: JMP_JGE_K, k: 130, jf: 'drop', label: 'type' },
    { code: JMP_JGT_K, k: 136, jt: 'mldv2', jf: 'accept' },
    { code: JMP_JEQ_K, k: 143, jt: 'accept', jf: 'drop', label: 'mldv2' },
    { code: RET_K, k: 0x40000, label: 'accept' },
    { code: RET_K, k: 0, label: 'drop' },
    { code: LD_B_ABS, k: 23, label: 'ipv4' }, // Protocol
    { code: JMP_JEQ_K, k: 17, jf: 'drop4' },
    { code: LD_H_ABS, k: 20 }, // flags + fragment offset
    { code: JMP_JSET_K, k: 0x1fff, jt: 'drop4' },
    { code: LDX_B_MSH, k: 14 }, // X = IHL * 4
    { code: LD_H_IND, k: 16 }, // UDP destination port
    { code: JMP_JEQ_K, k: 67, jt: 'accept4', jf: 'drop4' },
    { code: RET_K, k: 0x40000, label: 'accept4' },
    { code: RET_K, k: 0, label: 'drop4' },
    { code: RET_K, k: 0x40000, label: 'arp' },
  ]);
}
