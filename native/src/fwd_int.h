// Internals of the user-space forwarder (TunForwarder) shared by tun_fwd.c (the N-API
// object: construction, table programming; its stats in fwd_stats.c) and fwd_path.c (the
// per-packet path on its own threads).
#ifndef PMIP6_NATIVE_FWD_INT_H
#define PMIP6_NATIVE_FWD_INT_H

#include <net/if.h>
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwd_table.h"

#ifndef IPPROTO_GRE
#define IPPROTO_GRE 47
#endif

// Which inner address selects the tunnel for a packet read from the TUN device:
// the LMA routes by destination (RFC 5213 §5.6.2: to the MN's prefix), the MAG by source
// (RFC 5213 §6.10.5: from the MN's prefix, reverse tunnelled to the LMA).
enum fwd_role { FWD_ROLE_LMA = 1, FWD_ROLE_MAG = 2 };

// Drop causes, also the index into fwd_stats.drops (keep in step with fwd_stats.c's names).
enum fwd_drop {
  FWD_DROP_NO_BINDING = 0,  // TUN packet with no route; decapsulated packet whose inner address is not routed over that tunnel
  FWD_DROP_BAD_KEY,         // GRE from a known peer with a key (or no key) no tunnel expects
  FWD_DROP_UNKNOWN_PEER,    // outer source (or destination) is no tunnel's endpoint
  FWD_DROP_MALFORMED,       // too short, wrong IP version, GRE version/flags we do not accept
  FWD_DROP_TUN_WRITE,       // write to the TUN device failed
  FWD_DROP_SEND,            // sendmmsg failed
  FWD_DROP_MULTICAST,       // TUN packet to a multicast destination (the kernel's own MLD/RS on the device): never tunnelled
  FWD_DROP_COUNT
};

// Counters of one thread (each thread writes only its own; JavaScript reads them racily).
typedef struct {
  uint64_t packets, bytes;
  uint64_t drops[FWD_DROP_COUNT];
  uint64_t batches;
} fwd_stats;

#define FWD_HEADROOM 16        // room in front of a packet for the GRE header (4 + 4 key)
#define FWD_BUF 65536          // one packet buffer (largest IPv6 packet without jumbogram)
#define FWD_MAX_BATCH 64
#define FWD_V4_SOCKS 3
#define FWD_UDP_PORT 5437 // RFC 5844 §4.1, IANA pmip6-data
#define FWD_MAX_CTX 16         // routing contexts (TUN devices) of one forwarder

typedef struct fwd {
  char name[IFNAMSIZ];         // context 0's TUN device
  int ifindex;
  int role;                    // enum fwd_role
  // One TUN device per routing context (fwd_table.h): what is read from tun_fds[c] is looked
  // up in context c, what a tunnel of context c decapsulates is written to tun_fds[c].
  unsigned n_ctx;
  int tun_fds[FWD_MAX_CTX];
  char ctx_names[FWD_MAX_CTX][IFNAMSIZ];
  int ctx_ifindex[FWD_MAX_CTX];
  uint64_t ctx_tx[FWD_MAX_CTX], ctx_rx[FWD_MAX_CTX]; // packets per context (relaxed atomics)
  int raw6_fd;                 // IPv6 raw socket, protocol 41: IPv6-in-IPv6 (RFC 2473)
  int raw4_fd;                 // IPv6 raw socket, protocol 4: IPv4-in-IPv6 (RFC 5844 §3.1.2.2)
  int gre_fd;                  // IPv6 raw socket, protocol 47: GRE (RFC 2784/2890, keys RFC 5845)
  // IPv4 transport (RFC 5844 §4, fwd_v4.c): raw IPv4 sockets for protocols 41, 4 and 47, in
  // that order (the same order as raw6_fd, raw4_fd, gre_fd).
  int v4_fds[FWD_V4_SOCKS];
  // IPv4-UDP (RFC 5844 §4.1): a UDP socket on port 5437, opened with the first such tunnel
  // (-1 until then; never closed before shutdown); wake_fd tells the rx thread to poll it.
  int udp_fd;
  int wake_fd;
  int stop_fd;                 // eventfd: wakes both threads at close
  unsigned batch;
  pthread_t tx_thread, rx_thread;
  bool threads_started;
  volatile int stopping;
  pthread_rwlock_t lock;       // writers: JavaScript programming the table; readers: the threads
  fwd_table table;
  fwd_stats tx;                // TUN -> tunnel (encapsulated and sent)
  fwd_stats rx;                // tunnel -> TUN (received and decapsulated)
} fwd;

// TUN devices (tun_fwd.c): open (or attach to) one, bring it up. 0 or errno.
int fwd_open_tun(char *name, int *fd);
int fwd_link_up(const char *name, uint32_t mtu, int *ifindex);

// Routing contexts (fwd_ctx.c).
bool fwd_read_contexts(napi_env env, napi_value opts, fwd *f);
int fwd_open_ctx(fwd *f, unsigned c, uint32_t mtu, const char **what, const char **sys);
napi_value fwd_contexts_stats(napi_env env, fwd *f);
void fwd_set_num(napi_env env, napi_value o, const char *k, double v);

// IPv4 transport (fwd_v4.c). Endpoints are kept as IPv4-mapped IPv6 addresses.
int fwd_open_v4(fwd *f, uint32_t rcvbuf, const char **what);
void fwd_v4_map(const uint8_t *a4, struct in6_addr *out);
bool fwd_is_v4(const struct in6_addr *a);
int fwd_open_udp(fwd *f);
bool fwd_v4_strip(uint8_t **p, size_t *len, struct in6_addr *src, struct in6_addr *dst);
struct msghdr;
struct sockaddr_in;
void fwd_v4_name(struct sockaddr_in *sin, uint8_t *ctrl, struct msghdr *h, const struct in6_addr *local, const struct in6_addr *remote);

// Starts the two forwarding threads. 0 or errno.
int fwd_start_threads(fwd *f);
// Stops and joins them (idempotent).
void fwd_stop_threads(fwd *f);

#endif
