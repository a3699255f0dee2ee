// A classic BPF interpreter (the subset of linux/filter.h opcodes our filters use: absolute
// loads, conditional and unconditional jumps, return), so a test can run the access-link
// filter over real frames without a kernel. Independent of the assembler in src/attach/bpf.ts:
// it reads the bytes the kernel would read.
import { endianness } from 'node:os';

export function runBpf(prog: Buffer, pkt: Uint8Array): number {
  const le = endianness() === 'LE';
  const n = prog.length / 8;
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < n; pc++) {
    const code = le ? prog.readUInt16LE(pc * 8) : prog.readUInt16BE(pc * 8);
    const jt = prog[pc * 8 + 2];
    const jf = prog[pc * 8 + 3];
    const k = le ? prog.readUInt32LE(pc * 8 + 4) : prog.readUInt32BE(pc * 8 + 4);
    switch (code) {
      case 0x30: // ld b [k]
        if (k >= pkt.length) return 0;
        a = pkt[k];
        break;
      case 0x28: // ldh [k]
        if (k + 2 > pkt.length) return 0;
        a = (pkt[k] << 8) | pkt[k + 1];
        break;
      case 0x48: // ldh [x + k]
        if (x + k + 2 > pkt.length) return 0;
        a = (pkt[x + k] << 8) | pkt[x + k + 1];
        break;
      case 0xb1: // ldx 4 * ([k] & 0xf)
        if (k >= pkt.length) return 0;
        x = (pkt[k] & 0xf) * 4;
        break;
      case 0x45: // jset #k
        pc += a & k ? jt : jf;
        break;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x25: // jgt #k
        pc += a > k ? jt : jf;
        break;
      case 0x35: // jge #k
        pc += a >= k ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        throw new Error(`bpf-vm: opcode ${code.toString(16)} not supported`);
    }
  }
  throw new Error('bpf-vm: fell off the end');
}
