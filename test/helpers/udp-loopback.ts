// UDP transports on loopback for transport tests (RFC 5844 §4 carriage): opened through the
// product's openUdpTransport, remembered so a file's after() closes them all, and a collector
// of the next n datagrams (copied: the batched socket reuses its receive buffer).
import { openUdpTransport, type UdpTransport } from '../../src/transport/udp.ts';
import type { ReceivedMh } from '../../src/transport/types.ts';

export class LoopbackUdp {
  readonly open: UdpTransport[] = [];

  async udp(addresses: string[], batched: boolean): Promise<UdpTransport> {
    const t = await openUdpTransport({ addresses, port: 0, batched });
    this.open.push(t);
    return t;
  }

  async closeAll(): Promise<void> {
    for (const t of this.open) await t.close();
  }
}

export function collect(t: UdpTransport, n: number): Promise<ReceivedMh[]> {
  const got: ReceivedMh[] = [];
  return new Promise((resolve) =>
    t.onReceive((m) => {
      got.push({ ...m, data: Buffer.from(m.data) });
      if (got.length === n) resolve(got);
    }),
  );
}
