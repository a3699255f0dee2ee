// UdpSocket: an IPv4 UDP socket with batched I/O, for Mobility Header over IPv4/UDP
// (RFC 5844 §4, port 5436). Node's dgram costs one JavaScript callback, one rinfo object and
// one address lookup per datagram in each direction; here
// - reception: a level-triggered uv_poll drained with non-blocking recvmmsg (rx_batch.c),
//   one JavaScript call per batch: onPackets(count, data, info, times) with the datagrams back
//   to back in one Buffer, [offset, length, source address (host order), source port] per
//   datagram in a Uint32Array (the caller turns addresses into text, and can cache them), and
//   each datagram's kernel receive time (SO_TIMESTAMPNS, ms since 1970, 0 if none) in a
//   Float64Array: a datagram that waited in the socket while the loop was busy keeps the
//   time it arrived (RFC 5213 §5.5 judges a PBU's timestamp against that);
// - sending: sendBatch(data, info, count) hands a whole batch to sendmmsg, info holding
//   [offset, length, destination address (host order), destination port] per datagram.
// No threads; the socket lives on the loop like MhSocket (mh_socket.c).
#include "udp_mmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"
#include "rx_batch.h"

#define UDP_MAX_OCTETS 2048
#define TX_CHUNK 256

typedef struct {
  napi_env env;
  napi_ref self;
  napi_ref on_packets;
  napi_async_context actx;
  int fd;
  uv_poll_t *poll;
  bool open;
  int in_callback;
  bool free_pending;
  bool cleanup_hook;
  unsigned drain_batches;
  uint16_t port;
  p6_rx_batch rx;
  double rx_batches, rx_packets, truncated, rx_errors, tx_batches, tx_packets, tx_errors, tx_gso_runs, gso_failures;
  int last_tx_error;
  bool gso; // UDP_SEGMENT runs (off after the kernel refused one, or with the option gso: false)
} udp_socket;

static void us_free(udp_socket *s) {
  p6_rx_batch_free(&s->rx);
  free(s);
}

static void on_poll_closed(uv_handle_t *h) { free(h); }

static void us_close_socket(udp_socket *s) {
  if (!s->open) return;
  s->open = false;
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, on_poll_closed);
    s->poll = NULL;
  }
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->on_packets) napi_delete_reference(s->env, s->on_packets);
  s->on_packets = NULL;
  if (s->actx) napi_async_destroy(s->env, s->actx);
  s->actx = NULL;
  if (s->self) {
    uint32_t n = 0;
    napi_reference_unref(s->env, s->self, &n);
  }
}

static void env_cleanup(void *arg) {
  udp_socket *s = arg;
  s->cleanup_hook = false;
  us_close_socket(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  udp_socket *s = data;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  us_close_socket(s);
  if (s->self) napi_delete_reference(env, s->self);
  s->self = NULL;
  if (s->in_callback > 0) s->free_pending = true;
  else us_free(s);
}

static udp_socket *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  return p6_unwrap_this(env, info, argc, argv, "a UdpSocket");
}

/* ------------------------------------------------------------------ receive */

static void deliver(udp_socket *s, unsigned n) {
  napi_env env = s->env;
  size_t total = 0;
  unsigned count = 0;
  s->rx_batches++;
  for (unsigned i = 0; i < n; i++) {
    s->rx_packets++;
    if (s->rx.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      s->truncated++;
      continue;
    }
    total += s->rx.msgs[i].msg_len;
    count++;
  }
  if (count == 0) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[4], ab, tab, result;
  uint8_t *data = NULL;
  void *infov = NULL, *timesv = NULL;
  if (napi_get_reference_value(env, s->on_packets, &cb) != napi_ok || napi_get_reference_value(env, s->self, &recv) != napi_ok) goto out;
  if (napi_create_buffer(env, total, (void **)&data, &argv[1]) != napi_ok) goto out;
  if (napi_create_arraybuffer(env, (size_t)count * 16, &infov, &ab) != napi_ok) goto out;
  if (napi_create_typedarray(env, napi_uint32_array, (size_t)count * 4, ab, 0, &argv[2]) != napi_ok) goto out;
  if (napi_create_arraybuffer(env, (size_t)count * sizeof(double), &timesv, &tab) != napi_ok) goto out;
  if (napi_create_typedarray(env, napi_float64_array, count, tab, 0, &argv[3]) != napi_ok) goto out;
  uint32_t *inf = infov;
  double *times = timesv;
  size_t off = 0;
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++) {
    if (s->rx.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
    const struct sockaddr_in *from = (const struct sockaddr_in *)&s->rx.names[i];
    unsigned len = s->rx.msgs[i].msg_len;
    memcpy(data + off, p6_rx_batch_data(&s->rx, i), len);
    inf[k * 4] = (uint32_t)off;
    inf[k * 4 + 1] = len;
    inf[k * 4 + 2] = ntohl(from->sin_addr.s_addr);
    inf[k * 4 + 3] = ntohs(from->sin_port);
    times[k] = p6_rx_batch_time_ms(&s->rx, i);
    off += len;
    k++;
  }
  napi_create_uint32(env, count, &argv[0]);
  if (napi_make_callback(env, s->actx, recv, cb, 4, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
out:
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  udp_socket *s = h->data;
  if (!s->open) return;
  if (status < 0) {
    s->rx_errors++;
    return;
  }
  if (!(events & UV_READABLE)) return;
  s->in_callback++;
  for (unsigned b = 0; b < s->drain_batches && s->open; b++) {
    int n = p6_rx_batch_recv(&s->rx, s->fd);
    if (n < 0) {
      // ECONNREFUSED and the like: an ICMP error for an earlier send; nothing to read.
      if (n != -EAGAIN && n != -EWOULDBLOCK) s->rx_errors++;
      if (n == -EAGAIN || n == -EWOULDBLOCK) break;
      continue;
    }
    if (n == 0) break;
    deliver(s, (unsigned)n);
    if ((unsigned)n < s->rx.cap) break;
  }
  s->in_callback--;
  if (s->free_pending && s->in_callback == 0) us_free(s);
}

/* ------------------------------------------------------------------ send */

// Generic segmentation offload for UDP (UDP_SEGMENT, udp(7), Linux 4.18): a run of datagrams
// of one size to one destination leaves as one message of up to GSO_MAX_SEGS of them, which
// the stack (or the NIC) cuts into the same datagrams it would have sent one by one: one
// route lookup and one pass down the stack per run instead of per datagram. A kernel or a
// route that cannot do it (EIO: no checksum offload on the device, or IPsec; EINVAL,
// ENOPROTOOPT: no UDP_SEGMENT) turns it off for the socket, and that run goes again unsegmented;
// a run whose datagrams exceed the path MTU (EMSGSIZE) goes again unsegmented on its own.
#define GSO_MAX_SEGS 64
#define GSO_MAX_OCTETS 60000

// Sends msgs[0, m) (each carrying segs[k] datagrams); returns the datagrams the kernel took.
static uint32_t us_sendmmsg(udp_socket *s, struct mmsghdr *msgs, const uint16_t *segs, unsigned m) {
  uint32_t sent = 0;
  unsigned done = 0;
  while (done < m) {
    int k = sendmmsg(s->fd, msgs + done, m - done, MSG_DONTWAIT);
    if (k < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      if (segs[done] > 1 && (e == EIO || e == EINVAL || e == ENOPROTOOPT || e == EOPNOTSUPP || e == EMSGSIZE)) {
        // The run again, one datagram per message (IP fragments what exceeds the path MTU, as for
        // any datagram); no segmentation from now on, unless only this run's size was the
        // problem (EMSGSIZE: a segment larger than the path MTU).
        if (e != EMSGSIZE) s->gso = false;
        s->gso_failures++;
        struct msghdr *h = &msgs[done].msg_hdr;
        const uint8_t *base = h->msg_iov[0].iov_base;
        uint16_t size;
        memcpy(&size, CMSG_DATA(CMSG_FIRSTHDR(h)), sizeof size);
        for (unsigned j = 0; j < segs[done]; j++) {
          struct iovec v = { .iov_base = (void *)(base + (size_t)j * size), .iov_len = size };
          struct msghdr one = { .msg_name = h->msg_name, .msg_namelen = h->msg_namelen, .msg_iov = &v, .msg_iovlen = 1 };
          ssize_t r;
          do r = sendmsg(s->fd, &one, MSG_DONTWAIT);
          while (r < 0 && errno == EINTR);
          if (r >= 0) sent++;
          else {
            s->tx_errors++;
            s->last_tx_error = errno;
          }
        }
        done++;
        continue;
      }
      // The message at `done` was refused: count its datagrams and go on with the next.
      s->tx_errors += segs[done];
      s->last_tx_error = e;
      done++;
      continue;
    }
    for (int j = 0; j < k; j++) sent += segs[done + (unsigned)j];
    done += (unsigned)k;
  }
  return sent;
}

// sendBatch(data: Uint8Array, info: Uint32Array, count) -> datagrams the kernel took. A
// datagram it refuses (full send buffer, no route) is counted in txErrors and skipped.
static napi_value us_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  udp_socket *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  napi_value out;
  if (!s->open) {
    napi_create_uint32(env, 0, &out);
    return out;
  }
  void *data = NULL, *infov = NULL;
  size_t dlen = 0, ilen = 0;
  napi_typedarray_type t;
  uint32_t count = 0;
  if (argc < 3 || napi_get_typedarray_info(env, argv[0], &t, &dlen, &data, NULL, NULL) != napi_ok || t != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[1], &t, &ilen, &infov, NULL, NULL) != napi_ok || t != napi_uint32_array ||
      napi_get_value_uint32(env, argv[2], &count) != napi_ok || (size_t)count * 4 > ilen) {
    return p6_throw_type(env, "sendBatch(data: Uint8Array, info: Uint32Array, count)");
  }
  const uint32_t *inf = infov;
  for (uint32_t i = 0; i < count; i++) {
    if ((size_t)inf[i * 4] + inf[i * 4 + 1] > dlen) return p6_throw_type(env, "sendBatch: a datagram lies outside data");
  }
  struct mmsghdr msgs[TX_CHUNK];
  struct iovec iov[TX_CHUNK];
  struct sockaddr_in to[TX_CHUNK];
  uint16_t segs[TX_CHUNK];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl[TX_CHUNK];
  uint32_t sent = 0;
  uint32_t i = 0;
  while (i < count) {
    unsigned m = 0;
    for (; m < TX_CHUNK && i < count; m++) {
      const uint32_t *r = inf + (size_t)i * 4;
      // A run: the datagrams after this one with the same size and destination, back to back in data.
      unsigned n = 1;
      // (A zero-length datagram never starts a run: a segment size of 0 means no segmentation.)
      if (s->gso && r[1] > 0) {
        size_t end = (size_t)r[0] + r[1];
        while (n < GSO_MAX_SEGS && i + n < count && (size_t)(n + 1) * r[1] <= GSO_MAX_OCTETS) {
          const uint32_t *q = inf + (size_t)(i + n) * 4;
          if (q[1] != r[1] || q[2] != r[2] || q[3] != r[3] || q[0] != end) break;
          end += q[1];
          n++;
        }
      }
      iov[m].iov_base = (uint8_t *)data + r[0];
      iov[m].iov_len = (size_t)r[1] * n;
      memset(&to[m], 0, sizeof to[m]);
      to[m].sin_family = AF_INET;
      to[m].sin_addr.s_addr = htonl(r[2]);
      to[m].sin_port = htons((uint16_t)r[3]);
      memset(&msgs[m].msg_hdr, 0, sizeof msgs[m].msg_hdr);
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      msgs[m].msg_hdr.msg_name = &to[m];
      msgs[m].msg_hdr.msg_namelen = sizeof to[m];
      if (n > 1) {
        msgs[m].msg_hdr.msg_control = ctrl[m].buf;
        msgs[m].msg_hdr.msg_controllen = sizeof ctrl[m].buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[m].msg_hdr);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t size = (uint16_t)r[1];
        memcpy(CMSG_DATA(c), &size, sizeof size);
        s->tx_gso_runs++;
      }
      segs[m] = (uint16_t)n;
      i += n;
    }
    sent += us_sendmmsg(s, msgs, segs, m);
    s->tx_batches++;
  }
  s->tx_packets += sent;
  napi_create_uint32(env, sent, &out);
  return out;
}

/* ------------------------------------------------------------------ life cycle */

static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value n;
  if (napi_create_double(env, v, &n) == napi_ok) napi_set_named_property(env, o, k, n);
}

static napi_value us_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  napi_value o;
  P6_CALL(env, napi_create_object(env, &o));
  set_num(env, o, "rxBatches", s->rx_batches);
  set_num(env, o, "rxPackets", s->rx_packets);
  set_num(env, o, "truncated", s->truncated);
  set_num(env, o, "rxErrors", s->rx_errors);
  set_num(env, o, "txBatches", s->tx_batches);
  set_num(env, o, "txPackets", s->tx_packets);
  set_num(env, o, "txErrors", s->tx_errors);
  set_num(env, o, "lastTxError", s->last_tx_error);
  set_num(env, o, "txGsoRuns", s->tx_gso_runs);
  set_num(env, o, "gsoFailures", s->gso_failures);
  set_num(env, o, "gso", s->gso ? 1 : 0);
  double drops = -1;
  if (s->open) {
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t l = sizeof mem;
    if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &l) == 0 && l > SK_MEMINFO_DROPS * sizeof(uint32_t)) drops = mem[SK_MEMINFO_DROPS];
  }
  set_num(env, o, "kernelDrops", drops);
  return o;
}

static napi_value us_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  us_close_socket(s);
  return NULL;
}

static napi_value us_port(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  napi_value v;
  napi_create_uint32(env, s->port, &v);
  return v;
}

static int set_buffer_size(int fd, int force_opt, int opt, uint32_t size) {
  if (size == 0) return 0;
  if (p6_setsockopt_int(fd, SOL_SOCKET, force_opt, (int)size) == 0) return 0;
  return p6_setsockopt_int(fd, SOL_SOCKET, opt, (int)size);
}

// new UdpSocket({ address, port, onPackets, recvBufferSize?, sendBufferSize?, batch?, drainBatches?, gso? (false: no UDP_SEGMENT) })
static napi_value us_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, cb;
  P6_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  napi_valuetype t = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) return p6_throw_type(env, "UdpSocket needs an options object");
  napi_value opts = argv[0];
  char address[INET_ADDRSTRLEN + 1];
  bool has = false;
  if (!p6_opt_string(env, opts, "address", address, sizeof address, &has)) return NULL;
  struct sockaddr_in bound = { .sin_family = AF_INET };
  if (!has || inet_pton(AF_INET, address, &bound.sin_addr) != 1) return p6_throw_type(env, "option address must be an IPv4 address");
  uint32_t port = 0, rcvbuf = 8u << 20, sndbuf = 4u << 20, batch = 64, drain = 8;
  bool gso = true;
  if (!p6_opt_bool(env, opts, "gso", &gso)) return NULL;
  if (!p6_opt_u32(env, opts, "port", &port) || !p6_opt_u32(env, opts, "recvBufferSize", &rcvbuf) || !p6_opt_u32(env, opts, "sendBufferSize", &sndbuf) ||
      !p6_opt_u32(env, opts, "batch", &batch) || !p6_opt_u32(env, opts, "drainBatches", &drain)) {
    return NULL;
  }
  if (port > 65535) return p6_throw_type(env, "option port must be 0..65535");
  if (batch < 1 || batch > 1024) return p6_throw_type(env, "option batch must be 1..1024");
  P6_CALL(env, napi_get_named_property(env, opts, "onPackets", &cb));
  P6_CALL(env, napi_typeof(env, cb, &t));
  if (t != napi_function) return p6_throw_type(env, "option onPackets must be a function");
  bound.sin_port = htons((uint16_t)port);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return p6_throw_errno(env, errno, "socket", "UdpSocket: socket(AF_INET, SOCK_DGRAM)");
  int err = 0;
  const char *what = NULL;
  if ((err = set_buffer_size(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf)) != 0) what = "setsockopt";
  else if ((err = set_buffer_size(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf)) != 0) what = "setsockopt";
  else if ((err = p6_rx_enable_timestamps(fd)) != 0) what = "setsockopt(SO_TIMESTAMPNS)";
  else if (bind(fd, (struct sockaddr *)&bound, sizeof bound) != 0) {
    err = errno;
    what = "bind";
  }
  if (err != 0) {
    close(fd);
    char msg[128];
    snprintf(msg, sizeof msg, "UdpSocket %s:%u: %s", address, port, what);
    return p6_throw_errno(env, err, what, msg);
  }
  struct sockaddr_in got;
  socklen_t gl = sizeof got;
  getsockname(fd, (struct sockaddr *)&got, &gl);

  udp_socket *s = calloc(1, sizeof *s);
  if (s == NULL || p6_rx_batch_init(&s->rx, batch, UDP_MAX_OCTETS, P6_RX_TS_CTRL) != 0) {
    free(s);
    close(fd);
    return p6_throw_errno(env, ENOMEM, "malloc", "UdpSocket");
  }
  s->env = env;
  s->fd = fd;
  s->port = ntohs(got.sin_port);
  s->drain_batches = drain < 1 ? 1 : drain;
  s->gso = gso;
  s->open = true;
  napi_status st = napi_wrap(env, self, s, finalize, NULL, &s->self);
  if (st != napi_ok) {
    close(fd);
    us_free(s);
    p6_throw_napi(env, st, "napi_wrap");
    return NULL;
  }
  uint32_t refs = 0;
  napi_reference_ref(env, s->self, &refs); // strong while open
  napi_value name;
  napi_create_string_utf8(env, "pmip6:UdpSocket", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, cb, 1, &s->on_packets) != napi_ok || napi_async_init(env, self, name, &s->actx) != napi_ok) {
    us_close_socket(s);
    return p6_throw_errno(env, ENOMEM, "napi", "UdpSocket callback");
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
    us_close_socket(s);
    return p6_throw_errno(env, -uerr, "uv_poll_start", "UdpSocket: cannot poll the socket");
  }
  napi_add_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = true;
  return self;
}

napi_value p6_udp_socket_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"sendBatch", NULL, us_send_batch, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, us_stats, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, us_close, NULL, NULL, NULL, napi_default_method, NULL},
      {"port", NULL, us_port, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  P6_CALL(env, napi_define_class(env, "UdpSocket", NAPI_AUTO_LENGTH, us_construct, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  P6_CALL(env, napi_set_named_property(env, exports, "UdpSocket", cls));
  return exports;
}
