// Link events for the MAG's data plane (userspace.ts): the kernel removes the routes through
// an interface when it goes down or away, and the MAG's per-MN route out of the access link
// (RFC 5213 §6.10.5: packets from the tunnel to the MN leave by its access link) must come
// back when the link does, while the binding lasts. One rtnetlink socket on RTMGRP_LINK (the
// native addon's LinkSocket, src/attach/netlink.ts's codec); onUp(ifname) on every change to
// up (IFF_UP and IFF_LOWER_UP), onResync() when events were lost (ENOBUFS).
import type { NativeAddon, LinkSocket } from '../transport/native.ts';
import { RTMGRP_LINK, buildGetLinks, parseNetlink } from '../attach/netlink.ts';

const ENOBUFS = 105;
/** Interfaces remembered by name (bounded: a host with more links than this is resynced instead). */
const MAX_LINKS = 4096;

export class LinkWatcher {
  private readonly sock: LinkSocket;
  private readonly up = new Map<string, boolean>();
  private seq = 1;

  constructor(addon: NativeAddon, private readonly onUp: (ifname: string) => void, private readonly onResync: () => void) {
    if (!addon.LinkSocket) throw new Error('the native addon has no LinkSocket (rebuild it: npm run install)');
    this.sock = new addon.LinkSocket({
      family: 'netlink',
      groups: RTMGRP_LINK,
      recvBufferSize: 1 << 20,
      onPackets: (frames) => {
        for (const d of frames) this.onNetlink(d);
      },
      onError: (errno) => {
        if (errno === ENOBUFS) {
          this.up.clear();
          this.sock.send(buildGetLinks(this.seq++));
          this.onResync();
        }
      },
    });
    // The current state first, so that only real changes to up count.
    this.sock.send(buildGetLinks(this.seq++));
  }

  private onNetlink(d: Buffer): void {
    for (const m of parseNetlink(d)) {
      if (m.kind !== 'link' || m.ifname === null) continue;
      if (m.deleted) {
        this.up.delete(m.ifname);
        continue;
      }
      const was = this.up.get(m.ifname);
      if (was === undefined && this.up.size >= MAX_LINKS) this.up.clear();
      this.up.set(m.ifname, m.up);
      // Up again, or a link not seen before (created, moved into this namespace) that is up:
      // the routes wanted through it can go in now.
      if (m.up && was !== true) this.onUp(m.ifname);
    }
  }

  close(): void {
    this.sock.close();
  }
}
