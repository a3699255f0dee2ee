// The user-space forwarder's per-packet path, on two threads of its own (no JavaScript,
// no event loop):
//   tx: TUN -> tunnel. Reads a batch of packets from a context's TUN device, picks the tunnel,
//       within that routing context (fwd_table.h), by
//       the inner destination (LMA, RFC 5213 §5.6.2) or source (MAG, RFC 5213 §6.10.5)
//       prefix, encapsulates (IPv6-in-IPv6 = protocol 41, RFC 2473; IPv4-in-IPv6 = protocol 4,
//       RFC 5844 §3.1.2.2; GRE = protocol 47, RFC 2784 with the RFC 2890 Key field carrying
//       the RFC 5845 key the peer asked for) and sends each group with one sendmmsg.
//   IPv4 transport (RFC 5844 §4, fwd_v4.c): a tunnel whose endpoints are IPv4 (kept as
//       IPv4-mapped addresses) goes out through raw IPv4 sockets of the same protocols.
//   rx: tunnel -> TUN. recvmmsg batches from the six raw sockets (IPv4 ones: outer header stripped); a packet is accepted
//       only when its outer source and destination are a tunnel's endpoints and (GRE) its
//       key is the one that tunnel expects (RFC 5845 §3.1: the key identifies the MN's
//       flow), and when the inner address it carries is routed over that same tunnel;
//       then the inner packet is written to the TUN device. Every drop is counted by cause.
#include "fwd_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#define CTRL6 CMSG_SPACE(sizeof(struct in6_pktinfo))
#define ETH_IPV6 0x86DD
#define ETH_IPV4 0x0800
// RFC 2784 §2 / RFC 2890 §2: C, K, S bits; version in the low 3 bits.
#define GRE_C 0x8000
#define GRE_R 0x4000 // RFC 1701 routing: not accepted (RFC 2784 §2.1.1)
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VER 0x0007

static inline void count_add(uint64_t *c, uint64_t v) { __atomic_fetch_add(c, v, __ATOMIC_RELAXED); }

typedef struct {
  struct mmsghdr m[FWD_MAX_BATCH];
  struct iovec iov[FWD_MAX_BATCH];
  union {
    struct sockaddr_in6 in6;
    struct sockaddr_in in;
  } name[FWD_MAX_BATCH];
  uint8_t ctrl[FWD_MAX_BATCH][CTRL6];
  unsigned n;
} msg_group;

static void group_add(msg_group *g, uint8_t *data, size_t len, const struct in6_addr *local, const struct in6_addr *remote) {
  unsigned i = g->n++;
  g->iov[i].iov_base = data;
  g->iov[i].iov_len = len;
  struct msghdr *h = &g->m[i].msg_hdr;
  memset(h, 0, sizeof *h);
  h->msg_iov = &g->iov[i];
  h->msg_iovlen = 1;
  if (fwd_is_v4(remote)) {
    fwd_v4_name(&g->name[i].in, g->ctrl[i], h, local, remote);
    return;
  }
  memset(&g->name[i], 0, sizeof g->name[i]);
  g->name[i].in6.sin6_family = AF_INET6;
  g->name[i].in6.sin6_addr = *remote;
  h->msg_name = &g->name[i].in6;
  h->msg_namelen = sizeof g->name[i].in6;
  // The outer source is the tunnel's local endpoint (LMAA or Proxy-CoA), whatever the route says.
  h->msg_control = g->ctrl[i];
  h->msg_controllen = CTRL6;
  struct cmsghdr *c = CMSG_FIRSTHDR(h);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
  struct in6_pktinfo pi;
  memset(&pi, 0, sizeof pi);
  pi.ipi6_addr = *local;
  memcpy(CMSG_DATA(c), &pi, sizeof pi);
}

static void group_send(fwd *f, int fd, msg_group *g) {
  unsigned done = 0;
  while (done < g->n) {
    int r = sendmmsg(fd, g->m + done, g->n - done, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      f->tx.drops[FWD_DROP_SEND]++; // the first one failed: skip it and go on
      done++;
      continue;
    }
    done += (unsigned)r;
  }
  g->n = 0;
}

// Reads one batch from context `ctx`'s TUN device, encapsulates and sends it.
static void tx_batch(fwd *f, uint16_t ctx, uint8_t *bufs, msg_group *groups, const int *fds) {
  unsigned n = 0;
  ssize_t lens[FWD_MAX_BATCH];
  for (; n < f->batch; n++) {
    ssize_t r = read(f->tun_fds[ctx], bufs + (size_t)n * (FWD_HEADROOM + FWD_BUF) + FWD_HEADROOM, FWD_BUF);
    if (r <= 0) break;
    lens[n] = r;
  }
  if (n == 0) return;
  f->tx.batches++;
  pthread_rwlock_rdlock(&f->lock);
  for (unsigned i = 0; i < n; i++) {
    uint8_t *p = bufs + (size_t)i * (FWD_HEADROOM + FWD_BUF) + FWD_HEADROOM;
    size_t len = (size_t)lens[i];
    int v = len > 0 ? p[0] >> 4 : 0;
    const uint8_t *key;
    if (v == 6 && len >= 40) key = p + (f->role == FWD_ROLE_LMA ? 24 : 8);
    else if (v == 4 && len >= 20) key = p + (f->role == FWD_ROLE_LMA ? 16 : 12);
    else {
      f->tx.drops[FWD_DROP_MALFORMED]++;
      continue;
    }
    if (v == 6 ? p[24] == 0xff : (p[16] & 0xf0) == 0xe0) {
      f->tx.drops[FWD_DROP_MULTICAST]++;
      continue;
    }
    uint32_t slot = fwd_route_lookup(&f->table, ctx, v, key);
    if (slot == UINT32_MAX) {
      f->tx.drops[FWD_DROP_NO_BINDING]++;
      continue;
    }
    fwd_tunnel *t = &f->table.tunnels[slot];
    count_add(&t->tx_packets, 1);
    count_add(&t->tx_bytes, len);
    count_add(&f->ctx_tx[ctx], 1);
    f->tx.packets++;
    f->tx.bytes += len;
    int v4t = fwd_is_v4(&t->remote) ? 3 : 0; // groups 3..5: the IPv4-transport sockets
    if (t->encap == FWD_ENCAP_UDP) {
      // RFC 5844 §4.1 IPv4-UDP: the inner packet is the UDP payload, port 5437 both ways.
      group_add(&groups[6], p, len, &t->local, &t->remote);
      groups[6].name[groups[6].n - 1].in.sin_port = htons(FWD_UDP_PORT);
    } else if (t->encap == FWD_ENCAP_GRE) {
      // RFC 2784 §2 + RFC 2890 §2.1: [C|R|K|S|...|Ver] [Protocol Type] [Key]
      size_t h = t->has_key_out ? 8 : 4;
      uint8_t *g = p - h;
      uint16_t flags = t->has_key_out ? GRE_K : 0;
      uint16_t proto = v == 6 ? ETH_IPV6 : ETH_IPV4;
      g[0] = (uint8_t)(flags >> 8);
      g[1] = (uint8_t)flags;
      g[2] = (uint8_t)(proto >> 8);
      g[3] = (uint8_t)proto;
      if (t->has_key_out) {
        g[4] = (uint8_t)(t->key_out >> 24);
        g[5] = (uint8_t)(t->key_out >> 16);
        g[6] = (uint8_t)(t->key_out >> 8);
        g[7] = (uint8_t)t->key_out;
      }
      group_add(&groups[2 + v4t], g, len + h, &t->local, &t->remote);
    } else {
      group_add(&groups[(v == 6 ? 0 : 1) + v4t], p, len, &t->local, &t->remote);
    }
  }
  pthread_rwlock_unlock(&f->lock);
  for (int gi = 0; gi < 3 + FWD_V4_SOCKS + 1; gi++)
    if (groups[gi].n) group_send(f, gi == 3 + FWD_V4_SOCKS ? __atomic_load_n(&f->udp_fd, __ATOMIC_ACQUIRE) : fds[gi], &groups[gi]);
}

static void *tx_main(void *arg) {
  fwd *f = arg;
  uint8_t *bufs = malloc((size_t)f->batch * (FWD_HEADROOM + FWD_BUF));
  msg_group *groups = calloc(3 + FWD_V4_SOCKS + 1, sizeof *groups); // raw6, raw4, gre, then over IPv4: 41, 4, 47, UDP
  if (bufs == NULL || groups == NULL) {
    free(bufs);
    free(groups);
    return NULL;
  }
  int fds[3 + FWD_V4_SOCKS] = {f->raw6_fd, f->raw4_fd, f->gre_fd, f->v4_fds[0], f->v4_fds[1], f->v4_fds[2]};
  // One pollfd per context's TUN device, the stop eventfd last.
  struct pollfd pfd[FWD_MAX_CTX + 1];
  unsigned nc = f->n_ctx;
  for (unsigned c = 0; c < nc; c++) pfd[c] = (struct pollfd){.fd = f->tun_fds[c], .events = POLLIN};
  pfd[nc] = (struct pollfd){.fd = f->stop_fd, .events = POLLIN};
  while (!f->stopping) {
    if (poll(pfd, nc + 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pfd[nc].revents) break;
    for (uint16_t c = 0; c < nc; c++) {
      if (pfd[c].revents & POLLIN) tx_batch(f, c, bufs, groups, fds);
      else if (pfd[c].revents & (POLLERR | POLLHUP | POLLNVAL)) goto out;
    }
  }
out:
  free(bufs);
  free(groups);
  return NULL;
}

// One received datagram (the payload after the outer IPv6 header): checks and writes it.
static void rx_one(fwd *f, int which, uint8_t *p, size_t len, const struct in6_addr *src, const struct in6_addr *dst) {
  uint8_t encap = FWD_ENCAP_IP6;
  bool has_key = false;
  uint32_t key = 0;
  int v = which == 0 ? 6 : 4;
  if (which == 3) { // IPv4-UDP (RFC 5844 §4.1): the version of the inner packet says which
    encap = FWD_ENCAP_UDP;
    v = len > 0 ? p[0] >> 4 : 0;
  } else if (which == 2) {
    encap = FWD_ENCAP_GRE;
    if (len < 4) goto malformed;
    uint16_t flags = (uint16_t)(p[0] << 8 | p[1]);
    uint16_t proto = (uint16_t)(p[2] << 8 | p[3]);
    if ((flags & GRE_VER) != 0 || (flags & GRE_R)) goto malformed;
    size_t off = 4;
    if (flags & GRE_C) off += 4;
    if (flags & GRE_K) {
      if (len < off + 4) goto malformed;
      has_key = true;
      key = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
      off += 4;
    }
    if (flags & GRE_S) off += 4;
    if (len < off) goto malformed;
    if (proto == ETH_IPV6) v = 6;
    else if (proto == ETH_IPV4) v = 4;
    else goto malformed;
    p += off;
    len -= off;
  }
  if (v == 6 ? (len < 40 || p[0] >> 4 != 6) : (len < 20 || p[0] >> 4 != 4)) goto malformed;
  uint32_t slot = fwd_rx_lookup(&f->table, src, encap, has_key, key);
  if (slot == UINT32_MAX) {
    f->rx.drops[fwd_peer_known(&f->table, src) && encap == FWD_ENCAP_GRE ? FWD_DROP_BAD_KEY : FWD_DROP_UNKNOWN_PEER]++;
    return;
  }
  fwd_tunnel *t = &f->table.tunnels[slot];
  if (memcmp(&t->local, dst, sizeof *dst) != 0) {
    f->rx.drops[FWD_DROP_UNKNOWN_PEER]++;
    return;
  }
  // The inner address must belong to a binding over this very tunnel: the LMA checks the
  // source (the MN's HNP or IPv4 HoA), the MAG the destination. No MN's packet reaches
  // another MN's tunnel, and no peer injects traffic for prefixes it does not serve.
  const uint8_t *a = v == 6 ? p + (f->role == FWD_ROLE_LMA ? 8 : 24) : p + (f->role == FWD_ROLE_LMA ? 12 : 16);
  // ... looked up in the tunnel's own context, and delivered into that context's TUN device.
  if (fwd_route_lookup(&f->table, t->ctx, v, a) != slot) {
    f->rx.drops[FWD_DROP_NO_BINDING]++;
    return;
  }
  if (write(f->tun_fds[t->ctx], p, len) < 0) {
    f->rx.drops[FWD_DROP_TUN_WRITE]++;
    return;
  }
  count_add(&t->rx_packets, 1);
  count_add(&t->rx_bytes, len);
  count_add(&f->ctx_rx[t->ctx], 1);
  f->rx.packets++;
  f->rx.bytes += len;
  return;
malformed:
  f->rx.drops[FWD_DROP_MALFORMED]++;
}

static void *rx_main(void *arg) {
  fwd *f = arg;
  unsigned batch = f->batch;
  uint8_t *bufs = malloc((size_t)batch * FWD_BUF);
  struct mmsghdr *m = calloc(batch, sizeof *m);
  struct iovec *iov = calloc(batch, sizeof *iov);
  struct sockaddr_storage *names = calloc(batch, sizeof *names);
  uint8_t (*ctrl)[CTRL6 + 32] = calloc(batch, sizeof *ctrl);
  if (!bufs || !m || !iov || !names || !ctrl) goto out;
  // IPv6 transport (41, 4, 47), IPv4 transport (41, 4, 47), IPv4-UDP (once open), the wake
  // eventfd (the UDP socket was opened), the stop eventfd.
  enum { NP = 3 + FWD_V4_SOCKS + 1, WAKE = NP, STOP = NP + 1 };
  struct pollfd pfd[STOP + 1] = {
      {.fd = f->raw6_fd, .events = POLLIN}, {.fd = f->raw4_fd, .events = POLLIN}, {.fd = f->gre_fd, .events = POLLIN},
      {.fd = f->v4_fds[0], .events = POLLIN}, {.fd = f->v4_fds[1], .events = POLLIN}, {.fd = f->v4_fds[2], .events = POLLIN},
      {.fd = -1, .events = POLLIN}, {.fd = f->wake_fd, .events = POLLIN}, {.fd = f->stop_fd, .events = POLLIN}};
  while (!f->stopping) {
    pfd[NP - 1].fd = __atomic_load_n(&f->udp_fd, __ATOMIC_ACQUIRE);
    if (poll(pfd, STOP + 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pfd[STOP].revents) break;
    if (pfd[WAKE].revents) {
      uint64_t v;
      (void)!read(f->wake_fd, &v, sizeof v);
    }
    for (int w = 0; w < NP; w++) {
      if (!(pfd[w].revents & POLLIN)) continue;
      for (int rounds = 0; rounds < 8; rounds++) {
        for (unsigned i = 0; i < batch; i++) {
          iov[i].iov_base = bufs + (size_t)i * FWD_BUF;
          iov[i].iov_len = FWD_BUF;
          memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
          m[i].msg_hdr.msg_name = &names[i];
          m[i].msg_hdr.msg_namelen = sizeof names[i];
          m[i].msg_hdr.msg_iov = &iov[i];
          m[i].msg_hdr.msg_iovlen = 1;
          m[i].msg_hdr.msg_control = ctrl[i];
          m[i].msg_hdr.msg_controllen = sizeof ctrl[i];
        }
        int r = recvmmsg(pfd[w].fd, m, batch, MSG_DONTWAIT, NULL);
        if (r <= 0) break;
        f->rx.batches++;
        pthread_rwlock_rdlock(&f->lock);
        for (int i = 0; i < r; i++) {
          uint8_t *pk = bufs + (size_t)i * FWD_BUF;
          if (w == NP - 1) {
            // IPv4-UDP: the kernel stripped IPv4 and UDP; the source from the name, the destination from IP_PKTINFO.
            struct in6_addr s4, d4;
            struct sockaddr_in *sin = (struct sockaddr_in *)&names[i];
            bool dst_ok = false;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&m[i].msg_hdr); c; c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
              if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                fwd_v4_map((const uint8_t *)&pi.ipi_addr, &d4);
                dst_ok = true;
              }
            }
            if (!dst_ok || sin->sin_family != AF_INET || (m[i].msg_hdr.msg_flags & MSG_TRUNC)) {
              f->rx.drops[FWD_DROP_MALFORMED]++;
              continue;
            }
            fwd_v4_map((const uint8_t *)&sin->sin_addr, &s4);
            rx_one(f, 3, pk, m[i].msg_len, &s4, &d4);
            continue;
          }
          if (w >= 3) {
            // IPv4 transport: the outer header comes with the datagram (raw IPv4 socket).
            size_t l4 = m[i].msg_len;
            struct in6_addr s4, d4;
            if ((m[i].msg_hdr.msg_flags & MSG_TRUNC) || !fwd_v4_strip(&pk, &l4, &s4, &d4)) f->rx.drops[FWD_DROP_MALFORMED]++;
            else rx_one(f, w - 3, pk, l4, &s4, &d4);
            continue;
          }
          struct in6_addr dst;
          bool have_dst = false;
          for (struct cmsghdr *c = CMSG_FIRSTHDR(&m[i].msg_hdr); c; c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
              struct in6_pktinfo pi;
              memcpy(&pi, CMSG_DATA(c), sizeof pi);
              dst = pi.ipi6_addr;
              have_dst = true;
            }
          }
          if (!have_dst || (m[i].msg_hdr.msg_flags & MSG_TRUNC)) {
            f->rx.drops[FWD_DROP_MALFORMED]++;
            continue;
          }
          rx_one(f, w, pk, m[i].msg_len, &((struct sockaddr_in6 *)&names[i])->sin6_addr, &dst);
        }
        pthread_rwlock_unlock(&f->lock);
        if ((unsigned)r < batch) break;
      }
    }
  }
out:
  free(bufs);
  free(m);
  free(iov);
  free(names);
  free(ctrl);
  return NULL;
}

int fwd_start_threads(fwd *f) {
  int err = pthread_create(&f->tx_thread, NULL, tx_main, f);
  if (err) return err;
  err = pthread_create(&f->rx_thread, NULL, rx_main, f);
  if (err) {
    f->stopping = 1;
    uint64_t one = 1;
    (void)!write(f->stop_fd, &one, sizeof one);
    pthread_join(f->tx_thread, NULL);
    return err;
  }
  pthread_setname_np(f->tx_thread, "pmip6-fwd-tx");
  pthread_setname_np(f->rx_thread, "pmip6-fwd-rx");
  f->threads_started = true;
  return 0;
}

void fwd_stop_threads(fwd *f) {
  if (!f->threads_started) return;
  f->stopping = 1;
  uint64_t one = 1;
  (void)!write(f->stop_fd, &one, sizeof one);
  pthread_join(f->tx_thread, NULL);
  pthread_join(f->rx_thread, NULL);
  f->threads_started = false;
}
