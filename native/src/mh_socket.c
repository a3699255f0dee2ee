// MhSocket: a raw IPv6 socket for the Mobility Header (IP protocol 135, RFC 6275 §6.1).
//
// - socket(AF_INET6, SOCK_RAW, 135), bound to one local address: the kernel then hands
//   this socket only Mobility Headers sent to that address (every raw protocol-135 socket
//   on a host sees every MH otherwise);
// - IPV6_CHECKSUM offset 4: the kernel fills the MH checksum on send and silently drops
//   (counting in sk_drops) a received MH whose checksum is wrong (RFC 6275 §6.1.1, §9.2);
// - IPV6_RECVPKTINFO / IPV6_RECVHOPLIMIT: destination address, interface and hop limit
//   of every datagram; sendmsg with IPV6_PKTINFO chooses the source address;
// - reception on the libuv loop: a uv_poll on the socket, drained with non-blocking
//   recvmmsg in batches, each batch handed to JavaScript in one call; no threads;
// - filtering in C before JavaScript sees a datagram: a destination not in the socket's
//   accept list (a socket bound to :: sees every MH on the host; one bound to an address
//   is already filtered by the kernel), an MH Type not in its type set, oversized datagrams;
//   each counted, and reported to JavaScript as a drop record (cause, source) so the
//   caller can count and log per cause and peer;
// - ICMPv6 Parameter Problem (RFC 4443 §3.4) for the RFC 6275 §9.2 checks the caller
//   makes, from a second raw socket (ICMPv6) that receives nothing.
#include "mh_socket.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"
#include "rx_batch.h"

#ifndef IPPROTO_MH
#define IPPROTO_MH 135
#endif

// RFC 6275 §6.1.1: Header Len is 8 bits in 8-octet units beyond the first 8: at most 2048 octets.
#define MH_MAX_OCTETS 2048
#define CTRL_SIZE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + 64)
// Drop records handed to JavaScript per batch (the rest are counted only).
#define MAX_DROP_RECORDS 16
// RFC 4443 §2.4 (c): an ICMPv6 error must fit the minimum IPv6 MTU.
#define ICMP6_ERROR_MAX (1280 - 40)
// Destinations a socket bound to :: may be told to accept.
#define MAX_ACCEPT 16

enum drop_cause { DROP_OVERSIZED = 1, DROP_WRONG_DESTINATION = 2, DROP_TYPE_FILTERED = 3 };

typedef struct {
  double rx_batches, rx_packets, rx_bytes, delivered, oversized, wrong_destination, type_filtered, rx_errors;
  double tx_packets, tx_bytes, tx_errors, icmp_sent, icmp_errors;
  int last_rx_error;
} mh_stats;

typedef struct mh_socket {
  napi_env env;
  napi_ref self;       // strong while open: a polled socket keeps its JavaScript object alive
  napi_ref on_packets; // the batch callback
  napi_async_context actx;
  int fd;
  int icmp_fd;
  uv_poll_t *poll;
  bool open;
  int in_callback;     // > 0 while JavaScript runs from a poll callback
  bool free_pending;   // finalized while in a callback: free when it returns
  bool cleanup_hook;
  struct sockaddr_in6 bound;
  struct in6_addr accept[MAX_ACCEPT]; // destinations delivered; none = all
  unsigned naccept;
  uint8_t types[32];   // MH Types delivered (bit set)
  unsigned drain_batches;
  p6_rx_batch rx;
  mh_stats st;
} mh_socket;

static void free_socket(mh_socket *s) {
  p6_rx_batch_free(&s->rx);
  free(s);
}

static void on_poll_closed(uv_handle_t *h) { free(h); }

// Stops polling and closes both sockets; the struct stays until the finalizer.
static void close_socket(mh_socket *s) {
  if (!s->open) return;
  s->open = false;
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, on_poll_closed);
    s->poll = NULL;
  }
  if (s->fd >= 0) close(s->fd);
  if (s->icmp_fd >= 0) close(s->icmp_fd);
  s->fd = s->icmp_fd = -1;
  napi_env env = s->env;
  if (s->on_packets) napi_delete_reference(env, s->on_packets);
  s->on_packets = NULL;
  if (s->actx) napi_async_destroy(env, s->actx);
  s->actx = NULL;
  if (s->self) {
    uint32_t n = 0;
    napi_reference_unref(env, s->self, &n);
  }
}

static void env_cleanup(void *arg) {
  mh_socket *s = arg;
  s->cleanup_hook = false;
  close_socket(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  mh_socket *s = data;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  close_socket(s);
  if (s->self) napi_delete_reference(env, s->self);
  s->self = NULL;
  if (s->in_callback > 0) s->free_pending = true;
  else free_socket(s);
}

/* ------------------------------------------------------------------ receive */

static inline bool type_allowed(const mh_socket *s, uint8_t t) { return (s->types[t >> 3] >> (t & 7)) & 1; }

static bool accepted(const mh_socket *s, const struct in6_addr *dst) {
  for (unsigned i = 0; i < s->naccept; i++) {
    if (memcmp(&s->accept[i], dst, sizeof *dst) == 0) return true;
  }
  return false;
}

typedef struct {
  struct in6_addr dst;
  uint32_t ifindex;
  int hoplimit;
  bool have_dst;
} rx_meta;

static void read_cmsgs(struct msghdr *h, rx_meta *m) {
  m->have_dst = false;
  m->ifindex = 0;
  m->hoplimit = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      m->dst = pi.ipi6_addr;
      m->ifindex = pi.ipi6_ifindex;
      m->have_dst = true;
    } else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(&m->hoplimit, CMSG_DATA(c), sizeof(int));
    }
  }
}

static bool same_addr(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b) {
  return memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0 && a->sin6_scope_id == b->sin6_scope_id;
}

// Hands one received batch to JavaScript:
//   onPackets(count, data, info, sources, destinations, drops)
// data: one Buffer with the delivered datagrams back to back; info: Uint32Array of
// [offset, length, ifindex, hopLimit] per datagram; sources/destinations: address text;
// drops: undefined or a flat array [cause, source, mhType, ...] (cause: 1 oversized,
// 2 wrong destination, 3 type filtered; mhType -1 when unknown).
static void deliver(mh_socket *s, unsigned n) {
  napi_env env = s->env;
  rx_meta metas[n];
  int16_t keep[n]; // cause per slot; 0 = deliver
  size_t total = 0;
  unsigned count = 0, ndrops = 0;
  s->st.rx_batches++;
  for (unsigned i = 0; i < n; i++) {
    struct mmsghdr *mm = &s->rx.msgs[i];
    unsigned len = mm->msg_len;
    read_cmsgs(&mm->msg_hdr, &metas[i]);
    s->st.rx_packets++;
    s->st.rx_bytes += len;
    int cause = 0;
    const uint8_t *p = p6_rx_batch_data(&s->rx, i);
    if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
      cause = DROP_OVERSIZED;
      s->st.oversized++;
    } else if (s->naccept > 0 && metas[i].have_dst && !accepted(s, &metas[i].dst)) {
      cause = DROP_WRONG_DESTINATION;
      s->st.wrong_destination++;
    } else if (len >= 3 && !type_allowed(s, p[2])) {
      cause = DROP_TYPE_FILTERED;
      s->st.type_filtered++;
    }
    keep[i] = (int16_t)cause;
    if (cause == 0) {
      total += len;
      count++;
    } else {
      ndrops++;
    }
  }
  s->st.delivered += count;
  if (count == 0 && ndrops == 0) return;

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[6], undef;
  napi_get_undefined(env, &undef);
  if (napi_get_reference_value(env, s->on_packets, &cb) != napi_ok || napi_get_reference_value(env, s->self, &recv) != napi_ok) goto out;

  uint8_t *data = NULL;
  void *infov = NULL;
  napi_value ab;
  if (napi_create_buffer(env, total, (void **)&data, &argv[1]) != napi_ok) goto out;
  if (napi_create_arraybuffer(env, (size_t)count * 16, &infov, &ab) != napi_ok) goto out;
  if (napi_create_typedarray(env, napi_uint32_array, (size_t)count * 4, ab, 0, &argv[2]) != napi_ok) goto out;
  if (napi_create_array_with_length(env, count, &argv[3]) != napi_ok) goto out;
  if (napi_create_array_with_length(env, count, &argv[4]) != napi_ok) goto out;
  argv[5] = undef;
  if (ndrops > 0 && napi_create_array(env, &argv[5]) != napi_ok) goto out;

  uint32_t *info = infov;
  size_t off = 0;
  unsigned k = 0, d = 0;
  napi_value last_src = NULL, last_dst = NULL;
  const struct sockaddr_in6 *last_src_addr = NULL;
  struct in6_addr last_dst_addr;
  uint32_t last_dst_if = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct sockaddr_in6 *from = &s->rx.names[i];
    napi_value src;
    if (last_src != NULL && same_addr(from, last_src_addr)) {
      src = last_src;
    } else {
      src = p6_in6_string(env, &from->sin6_addr, from->sin6_scope_id);
      if (src == NULL) goto out;
      last_src = src;
      last_src_addr = from;
    }
    const uint8_t *p = p6_rx_batch_data(&s->rx, i);
    if (keep[i] != 0) {
      if (d < MAX_DROP_RECORDS) {
        napi_value c, t;
        napi_create_int32(env, keep[i], &c);
        napi_create_int32(env, s->rx.msgs[i].msg_len >= 3 ? p[2] : -1, &t);
        napi_set_element(env, argv[5], d * 3, c);
        napi_set_element(env, argv[5], d * 3 + 1, src);
        napi_set_element(env, argv[5], d * 3 + 2, t);
        d++;
      }
      continue;
    }
    const rx_meta *m = &metas[i];
    const struct in6_addr *da = m->have_dst ? &m->dst : &s->bound.sin6_addr;
    uint32_t dscope = IN6_IS_ADDR_LINKLOCAL(da) ? m->ifindex : 0;
    napi_value dst;
    if (last_dst != NULL && dscope == last_dst_if && memcmp(da, &last_dst_addr, sizeof *da) == 0) {
      dst = last_dst;
    } else {
      dst = p6_in6_string(env, da, dscope);
      if (dst == NULL) goto out;
      last_dst = dst;
      last_dst_addr = *da;
      last_dst_if = dscope;
    }
    unsigned len = s->rx.msgs[i].msg_len;
    memcpy(data + off, p, len);
    info[k * 4] = (uint32_t)off;
    info[k * 4 + 1] = len;
    info[k * 4 + 2] = m->ifindex;
    info[k * 4 + 3] = m->hoplimit < 0 ? 0 : (uint32_t)m->hoplimit;
    napi_set_element(env, argv[3], k, src);
    napi_set_element(env, argv[4], k, dst);
    off += len;
    k++;
  }
  napi_create_uint32(env, count, &argv[0]);
  napi_value result;
  napi_status st = napi_make_callback(env, s->actx, recv, cb, 6, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      // Like an exception thrown by an event handler: surfaces as 'uncaughtException'.
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
out:
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  mh_socket *s = h->data;
  if (!s->open) return;
  if (status < 0) {
    s->st.rx_errors++;
    s->st.last_rx_error = -status;
    return;
  }
  if (!(events & UV_READABLE)) return;
  s->in_callback++;
  // A bounded number of batches per wake-up: the loop's other work runs in between; the
  // poll is level-triggered, so whatever is left wakes us again on the next iteration.
  for (unsigned b = 0; b < s->drain_batches && s->open; b++) {
    int n = p6_rx_batch_recv(&s->rx, s->fd);
    if (n < 0) {
      // EAGAIN also after the kernel discards a datagram whose checksum is wrong (sk_drops).
      if (n != -EAGAIN && n != -EWOULDBLOCK) {
        s->st.rx_errors++;
        s->st.last_rx_error = -n;
      }
      break;
    }
    if (n == 0) break;
    deliver(s, (unsigned)n);
    if ((unsigned)n < s->rx.cap) break;
  }
  s->in_callback--;
  if (s->free_pending && s->in_callback == 0) free_socket(s);
}

/* ------------------------------------------------------------------ construction */

static mh_socket *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    p6_throw_type(env, "not an MhSocket");
    return NULL;
  }
  return data;
}

static int set_buffer_size(int fd, int force_opt, int opt, uint32_t size) {
  if (size == 0) return 0;
  if (p6_setsockopt_int(fd, SOL_SOCKET, force_opt, (int)size) == 0) return 0; // CAP_NET_ADMIN: beyond rmem_max
  return p6_setsockopt_int(fd, SOL_SOCKET, opt, (int)size);
}

// new MhSocket({ address, onPackets, accept?, types?, checksum?, recvBufferSize?, sendBufferSize?, batch?, drainBatches? })
static napi_value ms_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  P6_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  napi_valuetype t = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) return p6_throw_type(env, "MhSocket needs an options object");
  napi_value opts = argv[0];

  char address[INET6_ADDRSTRLEN + 32];
  bool has_address = false;
  if (!p6_opt_string(env, opts, "address", address, sizeof address, &has_address)) return NULL;
  if (!has_address) return p6_throw_type(env, "option address is required (an IPv6 address, or :: for every address)");
  struct sockaddr_in6 bound;
  int perr = p6_parse_in6(address, &bound);
  if (perr == ENODEV) return p6_throw_errno(env, ENODEV, "if_nametoindex", "MhSocket: unknown interface in the address's scope");
  if (perr != 0) return p6_throw_type(env, "option address is not an IPv6 address");

  napi_value cb;
  P6_CALL(env, napi_get_named_property(env, opts, "onPackets", &cb));
  P6_CALL(env, napi_typeof(env, cb, &t));
  if (t != napi_function) return p6_throw_type(env, "option onPackets must be a function");

  uint32_t rcvbuf = 4u << 20, sndbuf = 1u << 20, batch = 64, drain = 8;
  bool checksum = true;
  if (!p6_opt_u32(env, opts, "recvBufferSize", &rcvbuf) || !p6_opt_u32(env, opts, "sendBufferSize", &sndbuf) ||
      !p6_opt_u32(env, opts, "batch", &batch) || !p6_opt_u32(env, opts, "drainBatches", &drain) || !p6_opt_bool(env, opts, "checksum", &checksum)) {
    return NULL;
  }
  if (batch < 1 || batch > 1024) return p6_throw_type(env, "option batch must be 1..1024");
  if (drain < 1) drain = 1;

  uint8_t types[32];
  memset(types, 0xff, sizeof types);
  bool has_types = false;
  P6_CALL(env, napi_has_named_property(env, opts, "types", &has_types));
  if (has_types) {
    napi_value tv;
    P6_CALL(env, napi_get_named_property(env, opts, "types", &tv));
    P6_CALL(env, napi_typeof(env, tv, &t));
    if (t != napi_undefined) {
      bool is_ta = false;
      P6_CALL(env, napi_is_typedarray(env, tv, &is_ta));
      napi_typedarray_type tt;
      size_t len = 0;
      void *p = NULL;
      if (is_ta) P6_CALL(env, napi_get_typedarray_info(env, tv, &tt, &len, &p, NULL, NULL));
      if (!is_ta || tt != napi_uint8_array || len != 32) return p6_throw_type(env, "option types must be a 32-octet bit set (Uint8Array)");
      memcpy(types, p, 32);
    }
  }

  // accept: destinations to deliver on a socket bound to :: (default all).
  struct in6_addr accept[MAX_ACCEPT];
  unsigned naccept = 0;
  bool has_accept = false;
  P6_CALL(env, napi_has_named_property(env, opts, "accept", &has_accept));
  if (has_accept) {
    napi_value av;
    bool is_array = false;
    P6_CALL(env, napi_get_named_property(env, opts, "accept", &av));
    P6_CALL(env, napi_typeof(env, av, &t));
    P6_CALL(env, napi_is_array(env, av, &is_array));
    if (!is_array && t != napi_undefined) return p6_throw_type(env, "option accept must be an array of IPv6 addresses");
    uint32_t len = 0;
    if (is_array) P6_CALL(env, napi_get_array_length(env, av, &len));
    if (len > MAX_ACCEPT) return p6_throw_type(env, "option accept: at most 16 addresses");
    for (uint32_t i = 0; i < len; i++) {
      napi_value e;
      char text[INET6_ADDRSTRLEN + 32];
      struct sockaddr_in6 a;
      P6_CALL(env, napi_get_element(env, av, i, &e));
      if (!p6_get_string(env, e, text, sizeof text, "option accept[]")) return NULL;
      if (p6_parse_in6(text, &a) != 0) return p6_throw_type(env, "option accept: not an IPv6 address");
      accept[naccept++] = a.sin6_addr;
    }
  }
  if (!IN6_IS_ADDR_UNSPECIFIED(&bound.sin6_addr)) {
    // Bound to one address: the kernel delivers only what is sent to it; keep the check anyway.
    accept[0] = bound.sin6_addr;
    naccept = 1;
  }

  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_MH);
  if (fd < 0) {
    int e = errno;
    return p6_throw_errno(env, e, "socket", e == EPERM || e == EACCES
        ? "socket(AF_INET6, SOCK_RAW, 135): the process lacks CAP_NET_RAW"
        : "socket(AF_INET6, SOCK_RAW, 135)");
  }
  int err = 0;
  const char *what = NULL;
  // RFC 6275 §6.1.1: the checksum field is at offset 4 (-1 turns kernel checksumming off).
  if ((err = p6_setsockopt_int(fd, IPPROTO_IPV6, IPV6_CHECKSUM, checksum ? 4 : -1)) != 0) what = "setsockopt(IPV6_CHECKSUM)";
  else if ((err = p6_setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) != 0) what = "setsockopt(IPV6_RECVPKTINFO)";
  else if ((err = p6_setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)) != 0) what = "setsockopt(IPV6_RECVHOPLIMIT)";
  else if ((err = set_buffer_size(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf)) != 0) what = "setsockopt(SO_RCVBUF)";
  else if ((err = set_buffer_size(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf)) != 0) what = "setsockopt(SO_SNDBUF)";
  else if (bind(fd, (struct sockaddr *)&bound, sizeof bound) != 0) {
    err = errno;
    what = err == EADDRNOTAVAIL ? "bind: the address is not configured on this host (or not yet usable: DAD)" : "bind";
  }
  if (err != 0) {
    close(fd);
    char msg[256];
    snprintf(msg, sizeof msg, "MhSocket %s: %s", address, what);
    return p6_throw_errno(env, err, strncmp(what, "bind", 4) == 0 ? "bind" : "setsockopt", msg);
  }

  mh_socket *s = calloc(1, sizeof *s);
  if (s == NULL || p6_rx_batch_init(&s->rx, batch, MH_MAX_OCTETS, CTRL_SIZE) != 0) {
    free(s);
    close(fd);
    return p6_throw_errno(env, ENOMEM, "malloc", "MhSocket");
  }
  s->env = env;
  s->fd = fd;
  s->icmp_fd = -1;
  s->bound = bound;
  memcpy(s->accept, accept, sizeof accept);
  s->naccept = naccept;
  memcpy(s->types, types, sizeof types);
  s->drain_batches = drain;
  s->open = true;

  napi_status st = napi_wrap(env, self, s, finalize, NULL, &s->self);
  if (st != napi_ok) {
    close(fd);
    free_socket(s);
    p6_throw_napi(env, st, "napi_wrap");
    return NULL;
  }
  uint32_t refs = 0;
  napi_reference_ref(env, s->self, &refs); // strong while open
  napi_value name;
  napi_create_string_utf8(env, "pmip6:MhSocket", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, cb, 1, &s->on_packets) != napi_ok || napi_async_init(env, self, name, &s->actx) != napi_ok) {
    close_socket(s);
    return p6_throw_errno(env, ENOMEM, "napi", "MhSocket callback");
  }
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  s->poll = malloc(sizeof *s->poll);
  int uerr = s->poll ? uv_poll_init(loop, s->poll, fd) : UV_ENOMEM;
  if (uerr == 0) {
    s->poll->data = s;
    uerr = uv_poll_start(s->poll, UV_READABLE, on_poll);
    if (uerr != 0) {
      uv_close((uv_handle_t *)s->poll, on_poll_closed);
      s->poll = NULL;
    }
  } else {
    free(s->poll);
    s->poll = NULL;
  }
  if (uerr != 0) {
    close_socket(s);
    return p6_throw_errno(env, -uerr, "uv_poll_start", "MhSocket: cannot poll the socket");
  }
  napi_add_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = true;
  return self;
}

/* ------------------------------------------------------------------ methods */

static bool get_bytes(napi_env env, napi_value v, const uint8_t **p, size_t *len) {
  bool ok = false;
  if (napi_is_buffer(env, v, &ok) == napi_ok && ok) return napi_get_buffer_info(env, v, (void **)p, len) == napi_ok;
  if (napi_is_typedarray(env, v, &ok) == napi_ok && ok) {
    napi_typedarray_type t;
    if (napi_get_typedarray_info(env, v, &t, len, (void **)p, NULL, NULL) != napi_ok) return false;
    if (t == napi_uint8_array) return true;
  }
  p6_throw_type(env, "data must be a Buffer or Uint8Array");
  return false;
}

// Parses "dst" and optional "src" arguments; false with an exception thrown on bad input.
static bool get_addresses(napi_env env, napi_value dv, napi_value sv, struct sockaddr_in6 *dst, struct sockaddr_in6 *src, bool *has_src) {
  char text[INET6_ADDRSTRLEN + 32];
  if (!p6_get_string(env, dv, text, sizeof text, "destination")) return false;
  int e = p6_parse_in6(text, dst);
  if (e != 0) {
    p6_throw_type(env, "destination is not an IPv6 address");
    return false;
  }
  napi_valuetype t = napi_undefined;
  *has_src = false;
  if (sv != NULL && napi_typeof(env, sv, &t) == napi_ok && t != napi_undefined && t != napi_null) {
    if (!p6_get_string(env, sv, text, sizeof text, "source")) return false;
    if (p6_parse_in6(text, src) != 0) {
      p6_throw_type(env, "source is not an IPv6 address");
      return false;
    }
    *has_src = true;
  }
  return true;
}

static int send_from(int fd, const void *data, size_t len, const struct sockaddr_in6 *dst, const struct sockaddr_in6 *src, bool has_src) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  union {
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } ctrl;
  struct msghdr mh = {.msg_name = (void *)dst, .msg_namelen = sizeof *dst, .msg_iov = &iov, .msg_iovlen = 1};
  if (has_src) {
    memset(&ctrl, 0, sizeof ctrl);
    mh.msg_control = ctrl.buf;
    mh.msg_controllen = sizeof ctrl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi = {.ipi6_addr = src->sin6_addr, .ipi6_ifindex = src->sin6_scope_id};
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
  for (;;) {
    if (sendmsg(fd, &mh, MSG_DONTWAIT) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// send(data, destination, source?) -> 0, or the errno of a failed sendmsg (EAGAIN: send buffer full).
static napi_value ms_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  mh_socket *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 2) return p6_throw_type(env, "send(data, destination, source?)");
  const uint8_t *p;
  size_t len;
  struct sockaddr_in6 dst, src;
  bool has_src;
  if (!get_bytes(env, argv[0], &p, &len)) return NULL;
  if (!get_addresses(env, argv[1], argc > 2 ? argv[2] : NULL, &dst, &src, &has_src)) return NULL;
  int err = s->open ? send_from(s->fd, p, len, &dst, &src, has_src) : EBADF;
  if (err == 0) {
    s->st.tx_packets++;
    s->st.tx_bytes += len;
  } else {
    s->st.tx_errors++;
  }
  napi_value r;
  napi_create_int32(env, err, &r);
  return r;
}

// parameterProblem(pointer, mh, peer, local, hopLimit) -> 0 or errno.
// RFC 6275 §9.2: ICMPv6 Parameter Problem, Code 0 (RFC 4443 §3.4), to the source of the
// packet, pointing into the invoking packet, which is rebuilt here from what the socket
// reported: an IPv6 header (traffic class and flow label unknown: 0) followed by the MH.
static napi_value ms_parameter_problem(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  mh_socket *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 5) return p6_throw_type(env, "parameterProblem(pointer, mh, peer, local, hopLimit)");
  uint32_t pointer = 0, hoplimit = 0;
  if (napi_get_value_uint32(env, argv[0], &pointer) != napi_ok || napi_get_value_uint32(env, argv[4], &hoplimit) != napi_ok) {
    return p6_throw_type(env, "pointer and hopLimit must be numbers");
  }
  const uint8_t *mh;
  size_t mhlen;
  struct sockaddr_in6 peer, local;
  bool has_local;
  if (!get_bytes(env, argv[1], &mh, &mhlen)) return NULL;
  if (!get_addresses(env, argv[2], argv[3], &peer, &local, &has_local)) return NULL;
  int err = 0;
  if (!s->open) err = EBADF;
  if (err == 0 && s->icmp_fd < 0) {
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) {
      err = errno;
    } else {
      struct icmp6_filter f;
      ICMP6_FILTER_SETBLOCKALL(&f); // send only: nothing queues up on this socket
      setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
      s->icmp_fd = fd;
    }
  }
  if (err == 0) {
    uint8_t pkt[ICMP6_ERROR_MAX];
    size_t room = sizeof pkt - 8 - 40;
    size_t body = mhlen < room ? mhlen : room;
    memset(pkt, 0, 48);
    pkt[0] = ICMP6_PARAM_PROB;
    pkt[1] = ICMP6_PARAMPROB_HEADER; // code 0: erroneous header field
    uint32_t ptr = htonl(40 + pointer);  // offset in the invoking packet: after its IPv6 header
    memcpy(pkt + 4, &ptr, 4);
    struct ip6_hdr *ip = (struct ip6_hdr *)(pkt + 8);
    ip->ip6_flow = htonl(6u << 28);
    ip->ip6_plen = htons((uint16_t)mhlen);
    ip->ip6_nxt = IPPROTO_MH;
    ip->ip6_hlim = (uint8_t)hoplimit;
    ip->ip6_src = peer.sin6_addr;
    ip->ip6_dst = has_local ? local.sin6_addr : s->bound.sin6_addr;
    memcpy(pkt + 48, mh, body);
    // The kernel computes the ICMPv6 checksum of raw ICMPv6 sockets (RFC 3542 §3.1).
    err = send_from(s->icmp_fd, pkt, 48 + body, &peer, &local, has_local);
  }
  if (err == 0) s->st.icmp_sent++;
  else s->st.icmp_errors++;
  napi_value r;
  napi_create_int32(env, err, &r);
  return r;
}

static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value n;
  if (napi_create_double(env, v, &n) == napi_ok) napi_set_named_property(env, o, k, n);
}

// stats() -> counters of this socket, plus the kernel's drop count for it (SO_MEMINFO):
// datagrams discarded for a bad checksum or a full receive buffer.
static napi_value ms_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  mh_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  napi_value o;
  P6_CALL(env, napi_create_object(env, &o));
  const mh_stats *st = &s->st;
  set_num(env, o, "rxBatches", st->rx_batches);
  set_num(env, o, "rxPackets", st->rx_packets);
  set_num(env, o, "rxBytes", st->rx_bytes);
  set_num(env, o, "delivered", st->delivered);
  set_num(env, o, "oversized", st->oversized);
  set_num(env, o, "wrongDestination", st->wrong_destination);
  set_num(env, o, "typeFiltered", st->type_filtered);
  set_num(env, o, "rxErrors", st->rx_errors);
  set_num(env, o, "lastRxError", st->last_rx_error);
  set_num(env, o, "txPackets", st->tx_packets);
  set_num(env, o, "txBytes", st->tx_bytes);
  set_num(env, o, "txErrors", st->tx_errors);
  set_num(env, o, "icmpSent", st->icmp_sent);
  set_num(env, o, "icmpErrors", st->icmp_errors);
  double drops = -1, rcvbuf = -1;
  if (s->open) {
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t l = sizeof mem;
    if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &l) == 0 && l > SK_MEMINFO_DROPS * sizeof(uint32_t)) drops = mem[SK_MEMINFO_DROPS];
    int v = 0;
    l = sizeof v;
    if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0) rcvbuf = v;
  }
  set_num(env, o, "kernelDrops", drops);
  set_num(env, o, "recvBufferSize", rcvbuf);
  return o;
}

static napi_value ms_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  mh_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  close_socket(s);
  return NULL;
}

// The bound address (text) and whether the socket is open.
static napi_value ms_address(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  mh_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  return p6_in6_string(env, &s->bound.sin6_addr, s->bound.sin6_scope_id);
}

/* ------------------------------------------------------------------ module */

// probeMh() -> { ok: true } or { ok: false, code, message }: can this process open a raw
// protocol-135 socket (CAP_NET_RAW)?
static napi_value probe_mh(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, v;
  P6_CALL(env, napi_create_object(env, &o));
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_MH);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  napi_get_boolean(env, e == 0, &v);
  napi_set_named_property(env, o, "ok", v);
  if (e != 0) {
    const char *name = strerrorname_np(e);
    napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "code", v);
    napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "message", v);
  }
  return o;
}

napi_value p6_mh_socket_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"send", NULL, ms_send, NULL, NULL, NULL, napi_default_method, NULL},
      {"parameterProblem", NULL, ms_parameter_problem, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, ms_stats, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, ms_close, NULL, NULL, NULL, napi_default_method, NULL},
      {"address", NULL, ms_address, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls, fn;
  P6_CALL(env, napi_define_class(env, "MhSocket", NAPI_AUTO_LENGTH, ms_construct, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  P6_CALL(env, napi_set_named_property(env, exports, "MhSocket", cls));
  P6_CALL(env, napi_create_function(env, "probeMh", NAPI_AUTO_LENGTH, probe_mh, NULL, &fn));
  P6_CALL(env, napi_set_named_property(env, exports, "probeMh", fn));
  return exports;
}
