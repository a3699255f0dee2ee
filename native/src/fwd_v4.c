// IPv4 transport for the user-space forwarder (RFC 5844 §4: the MAG's IPv4 Proxy-CoA and
// the LMA's IPv4 LMAA as tunnel endpoints): raw IPv4 sockets for protocol 41 (IPv6-in-IPv4,
// RFC 4213 §3.5), 4 (IPv4-in-IPv4, RFC 2003) and 47 (GRE over IPv4, RFC 2784 / RFC 2890 with
// the RFC 5845 keys). The tables keep an IPv4 endpoint as an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), so lookups are the IPv6 path's; only the socket
// family, the outer header and the source-address control message differ. IPv4-UDP (RFC 5844
// §4.1): the inner packet as the payload of UDP port 5437 both ways, through a UDP socket
// opened with the first such tunnel.
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "fwd_int.h"

static const int V4_PROTOS[FWD_V4_SOCKS] = {41, 4, IPPROTO_GRE};

int fwd_open_v4(fwd *f, uint32_t rcvbuf, const char **what) {
  static const char *const names[FWD_V4_SOCKS] = {"TunForwarder: raw IPv4 socket for protocol 41", "TunForwarder: raw IPv4 socket for protocol 4",
                                                  "TunForwarder: raw IPv4 socket for protocol 47"};
  for (int i = 0; i < FWD_V4_SOCKS; i++) {
    int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, V4_PROTOS[i]);
    if (s < 0) {
      *what = names[i];
      return errno;
    }
    if (rcvbuf && p6_setsockopt_int(s, SOL_SOCKET, SO_RCVBUFFORCE, (int)rcvbuf) != 0) p6_setsockopt_int(s, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
    f->v4_fds[i] = s;
  }
  return 0;
}

// Opens the IPv4-UDP socket (port 5437, RFC 5844 §4.1) if not yet open; wakes the rx thread.
// Called by JavaScript's addTunnel under the table's write lock. 0 or errno.
int fwd_open_udp(fwd *f) {
  if (f->udp_fd >= 0) return 0;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(FWD_UDP_PORT);
  int err = p6_setsockopt_int(s, IPPROTO_IP, IP_PKTINFO, 1);
  if (!err && bind(s, (struct sockaddr *)&sin, sizeof sin) < 0) err = errno;
  if (err) {
    close(s);
    return err;
  }
  __atomic_store_n(&f->udp_fd, s, __ATOMIC_RELEASE);
  uint64_t one = 1;
  (void)!write(f->wake_fd, &one, sizeof one);
  return 0;
}

void fwd_v4_map(const uint8_t *a4, struct in6_addr *out) {
  memset(out, 0, sizeof *out);
  out->s6_addr[10] = 0xff;
  out->s6_addr[11] = 0xff;
  memcpy(out->s6_addr + 12, a4, 4);
}

bool fwd_is_v4(const struct in6_addr *a) { return IN6_IS_ADDR_V4MAPPED(a); }

// A datagram from a raw IPv4 socket starts with the outer IPv4 header (RFC 791 §3.1):
// checks it, returns the payload and the outer source and destination (mapped). false when
// malformed. Reassembly happened in the kernel; a fragment never reaches a raw socket.
bool fwd_v4_strip(uint8_t **p, size_t *len, struct in6_addr *src, struct in6_addr *dst) {
  uint8_t *h = *p;
  if (*len < 20 || h[0] >> 4 != 4) return false;
  size_t ihl = (size_t)(h[0] & 0x0f) * 4;
  size_t total = (size_t)(h[2] << 8 | h[3]);
  if (ihl < 20 || *len < ihl || total < ihl || total > *len) return false;
  fwd_v4_map(h + 12, src);
  fwd_v4_map(h + 16, dst);
  *p = h + ihl;
  *len = total - ihl;
  return true;
}

// The destination and, through IP_PKTINFO's ipi_spec_dst, the outer source (the tunnel's
// local endpoint, whatever the route says) of one outgoing IPv4-transport datagram.
void fwd_v4_name(struct sockaddr_in *sin, uint8_t *ctrl, struct msghdr *h, const struct in6_addr *local, const struct in6_addr *remote) {
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  memcpy(&sin->sin_addr, remote->s6_addr + 12, 4);
  h->msg_name = sin;
  h->msg_namelen = sizeof *sin;
  h->msg_control = ctrl;
  h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
  struct cmsghdr *c = CMSG_FIRSTHDR(h);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
  struct in_pktinfo pi;
  memset(&pi, 0, sizeof pi);
  memcpy(&pi.ipi_spec_dst, local->s6_addr + 12, 4);
  memcpy(CMSG_DATA(c), &pi, sizeof pi);
}
