// MhSocket: a raw IPv6 socket for the Mobility Header (IP protocol 135, RFC 6275 §6.1).
//
// - socket(AF_INET6, SOCK_RAW, 135), bound to one local address: the kernel then hands
//   this socket only Mobility Headers sent to that address (every raw protocol-135 socket
//   on a host sees every MH otherwise);
// - IPV6_CHECKSUM offset 4: the kernel fills the MH checksum on send and silently drops
//   (counting in sk_drops) a received MH whose checksum is wrong (RFC 6275 §6.1.1, §9.2);
// - SO_TIMESTAMPNS: each datagram's kernel receive time (RFC 5213 §5.5 timestamp checks);
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
//
// This file: life cycle, construction, stats, close; mh_rx.c receives, mh_tx.c sends.
#include "mh_socket.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"
#include "mh_socket_int.h"

void p6_mh_free(mh_socket *s) {
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
  else p6_mh_free(s);
}


/* ------------------------------------------------------------------ construction */

mh_socket *p6_mh_unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  return p6_unwrap_this(env, info, argc, argv, "an MhSocket");
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
  else if ((err = p6_rx_enable_timestamps(fd)) != 0) what = "setsockopt(SO_TIMESTAMPNS)";
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
    p6_mh_free(s);
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
    uerr = uv_poll_start(s->poll, UV_READABLE, p6_mh_on_poll);
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


static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value n;
  if (napi_create_double(env, v, &n) == napi_ok) napi_set_named_property(env, o, k, n);
}

// stats() -> counters of this socket, plus the kernel's drop count for it (SO_MEMINFO):
// datagrams discarded for a bad checksum or a full receive buffer.
static napi_value ms_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  mh_socket *s = p6_mh_unwrap(env, info, &argc, NULL);
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
  mh_socket *s = p6_mh_unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  close_socket(s);
  return NULL;
}

// The bound address (text) and whether the socket is open.
static napi_value ms_address(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  mh_socket *s = p6_mh_unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  return p6_in6_string(env, &s->bound.sin6_addr, s->bound.sin6_scope_id);
}

/* ------------------------------------------------------------------ module */

// probeMh() -> { ok: true } or { ok: false, code, message }: can this process open a raw
// protocol-135 socket (CAP_NET_RAW)?
static napi_value probe_mh(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_MH);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  return p6_probe_result(env, e, NULL);
}

napi_value p6_mh_socket_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"send", NULL, p6_mh_send, NULL, NULL, NULL, napi_default_method, NULL},
      {"sendBatch", NULL, p6_mh_send_batch, NULL, NULL, NULL, napi_default_method, NULL},
      {"parameterProblem", NULL, p6_mh_parameter_problem, NULL, NULL, NULL, napi_default_method, NULL},
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
