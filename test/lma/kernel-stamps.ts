// Kernel receive stamps (SO_TIMESTAMPNS) for tests that judge a PBU by its arrival time.
//
// Linux switches stamping on for the whole host only when a first socket asks for it, and
// then from a work queue (net_enable_timestamp: netstamp_work, a static key). A datagram that
// reaches a socket before that work ran carries no stamp, and recvmsg fills in the time of the
// read instead ("Race occurred between timestamp enabling and packet receiving", net/socket.c
// __sock_recv_timestamp): a PBU sent right after the LMA's socket opened, on a host where no
// other socket had stamps on, then looks as old as the time it waited (test/lma/rx-time.test.ts
// failed so, about 1 run in 6, on a loaded machine). Tests wait for stamping with
// kernelStampsOn() once their own sockets are open (which keep it on).
import { nativeUdp } from '../../src/transport/udp-native.ts';

/** Blocks this thread (the event loop) for ms. */
export function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* the loop is stalled; datagrams wait in the socket buffers */
  }
}

/**
 * Resolves once a datagram's kernel stamp is the time it was sent, not the time it was read:
 * a probe is sent (the loopback stamps it inside the send call), the loop is held for 2 ms,
 * and the stamp must be from before the send returned. Retries (the work queue runs meanwhile)
 * up to `tries` times. Needs the addon's UdpSocket; call it while the sockets under test are open.
 */
export async function kernelStampsOn(tries = 1000): Promise<void> {
  const ctor = nativeUdp();
  if (ctor === undefined) throw new Error('kernelStampsOn needs the native addon');
  let got: (stamp: number) => void = () => undefined;
  const rx = new ctor({ address: '127.0.0.1', port: 0, onPackets: (_n, _d, _i, times) => got(times?.[0] ?? 0) });
  const tx = new ctor({ address: '127.0.0.1', port: 0, onPackets: () => undefined });
  const probe = Buffer.from('stamp probe');
  try {
    for (let i = 0; i < tries; i++) {
      const stamp = new Promise<number>((r) => (got = r));
      tx.sendBatch(probe, Uint32Array.of(0, probe.length, 0x7f000001, rx.port()), 1);
      const sent = Date.now(); // whole ms: the send ended before sent + 1
      busyWait(2); // a stamp filled in by the read is at least sent + 2
      const at = await stamp;
      if (at > 0 && at < sent + 1.5) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`the kernel's receive stamps were not on after ${tries} probes`);
  } finally {
    rx.close();
    tx.close();
  }
}
