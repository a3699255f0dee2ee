// LinkSocket: the access-link sockets of the MAG's attach detector (src/attach/), which
// Node cannot open by itself:
//   - family 'packet': AF_PACKET/SOCK_RAW bound to one interface and one EtherType (or
//     ETH_P_ALL, 3), with an
//     optional classic BPF program (built in TypeScript, src/attach/bpf.ts) attached before
//     the bind so no unfiltered frame is queued. Frames arrive whole (Ethernet header
//     included: the source MAC identifies the MN); send() writes a whole frame, so the
//     Router Advertisement leaves from the fixed RFC 6543 MAC whatever the interface's is.
//   - family 'netlink': NETLINK_ROUTE bound to multicast groups (link and neighbour events);
//     send() writes a request (e.g. an RTM_GETLINK dump) to the kernel.
// Reception: a level-triggered uv_poll, non-blocking recvfrom up to `drain` datagrams per
// wake-up, one JavaScript call per wake-up: onPackets(frames: Buffer[], meta: Int32Array)
// with meta = [ifindex, pkttype] per frame (netlink: [0, 0]). A receive error (ENOBUFS on
// netlink: events were lost) is reported as onError(errno), so the caller can resync.
// No threads; the traffic of an access link's control plane is small.
#include "link_socket.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/ethernet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"

#define LS_MAX_FRAME 65536
#define LS_MAX_DRAIN 256

typedef struct {
  napi_env env;
  napi_ref self, on_packets, on_error;
  napi_async_context actx;
  int fd;
  int family; // AF_PACKET or AF_NETLINK
  int ifindex;
  uint16_t protocol;
  uv_poll_t *poll;
  bool open, cleanup_hook, free_pending;
  int in_callback;
  unsigned drain;
  uint8_t *buf;
  double rx, rx_bytes, rx_errors, tx, tx_errors;
} link_socket;

static void on_poll_closed(uv_handle_t *h) { free(h); }

static void ls_free(link_socket *s) {
  free(s->buf);
  free(s);
}

static void close_socket(link_socket *s) {
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
  if (s->on_error) napi_delete_reference(s->env, s->on_error);
  s->on_packets = s->on_error = NULL;
  if (s->actx) napi_async_destroy(s->env, s->actx);
  s->actx = NULL;
  if (s->self) {
    uint32_t n = 0;
    napi_reference_unref(s->env, s->self, &n);
  }
}

static void env_cleanup(void *arg) {
  link_socket *s = arg;
  s->cleanup_hook = false;
  close_socket(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  link_socket *s = data;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  close_socket(s);
  if (s->self) napi_delete_reference(env, s->self);
  s->self = NULL;
  if (s->in_callback > 0) s->free_pending = true;
  else ls_free(s);
}

static link_socket *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  return p6_unwrap_this(env, info, argc, argv, "a LinkSocket");
}

static void call_js(link_socket *s, napi_ref fn, size_t argc, napi_value *argv) {
  napi_value cb, recv, result;
  if (fn == NULL || napi_get_reference_value(s->env, fn, &cb) != napi_ok || napi_get_reference_value(s->env, s->self, &recv) != napi_ok) return;
  if (napi_make_callback(s->env, s->actx, recv, cb, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(s->env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(s->env, &e);
      napi_fatal_exception(s->env, e);
    }
  }
}

static void report_error(link_socket *s, int err) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  napi_value v;
  napi_create_int32(s->env, err, &v);
  call_js(s, s->on_error, 1, &v);
  napi_close_handle_scope(s->env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  link_socket *s = h->data;
  if (!s->open) return;
  if (status < 0) {
    // libuv stops a poll handle on POLLERR. A packet socket gets ENETDOWN whenever its
    // interface goes down (and when bound to one that is down); it works again when the
    // interface comes up. Clear the error, tell JavaScript, and poll on.
    int e = 0;
    socklen_t l = sizeof e;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &l);
    s->rx_errors++;
    s->in_callback++;
    report_error(s, e != 0 ? e : -status);
    s->in_callback--;
    if (s->open) uv_poll_start(s->poll, UV_READABLE, on_poll);
    if (s->free_pending && s->in_callback == 0) ls_free(s);
    return;
  }
  if (!(events & UV_READABLE)) return;
  s->in_callback++;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) goto done;
  napi_value frames, meta_ab, meta;
  int32_t *m = NULL;
  if (napi_create_array(s->env, &frames) != napi_ok) goto close_scope;
  if (napi_create_arraybuffer(s->env, (size_t)s->drain * 8, (void **)&m, &meta_ab) != napi_ok) goto close_scope;
  unsigned n = 0;
  int err = 0;
  while (n < s->drain && s->open) {
    struct sockaddr_ll from;
    socklen_t fl = sizeof from;
    memset(&from, 0, sizeof from);
    ssize_t len = recvfrom(s->fd, s->buf, LS_MAX_FRAME, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (len < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) err = errno;
      break;
    }
    s->rx++;
    s->rx_bytes += (double)len;
    napi_value b;
    void *data = NULL;
    if (napi_create_buffer_copy(s->env, (size_t)len, s->buf, &data, &b) != napi_ok) break;
    napi_set_element(s->env, frames, n, b);
    m[n * 2] = s->family == AF_PACKET ? from.sll_ifindex : 0;
    m[n * 2 + 1] = s->family == AF_PACKET ? from.sll_pkttype : 0;
    n++;
  }
  if (n > 0 && napi_create_typedarray(s->env, napi_int32_array, (size_t)n * 2, meta_ab, 0, &meta) == napi_ok) {
    napi_value argv[2] = {frames, meta};
    call_js(s, s->on_packets, 2, argv);
  }
  if (err != 0 && s->open) {
    s->rx_errors++;
    report_error(s, err);
  }
close_scope:
  napi_close_handle_scope(s->env, scope);
done:
  s->in_callback--;
  if (s->free_pending && s->in_callback == 0) ls_free(s);
}

// Reads an optional Buffer/Uint8Array property; *len 0 when absent.
static bool opt_bytes(napi_env env, napi_value obj, const char *key, void **p, size_t *len) {
  *p = NULL;
  *len = 0;
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return true;
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined) return true;
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  napi_typedarray_type tt;
  if (!is_ta || napi_get_typedarray_info(env, v, &tt, len, p, NULL, NULL) != napi_ok || tt != napi_uint8_array) {
    p6_throw_type(env, "option must be a Uint8Array");
    return false;
  }
  return true;
}

// new LinkSocket({ family: 'packet', ifindex, protocol, filter?, onPackets, onError?, drain? })
// new LinkSocket({ family: 'netlink', groups, onPackets, onError?, drain?, recvBufferSize? })
static napi_value ls_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  P6_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  napi_valuetype t = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) return p6_throw_type(env, "LinkSocket needs an options object");
  napi_value opts = argv[0];
  char fam[16];
  bool has_fam = false;
  if (!p6_opt_string(env, opts, "family", fam, sizeof fam, &has_fam)) return NULL;
  bool packet = has_fam && strcmp(fam, "packet") == 0;
  if (!packet && !(has_fam && strcmp(fam, "netlink") == 0)) return p6_throw_type(env, "option family must be 'packet' or 'netlink'");
  uint32_t ifindex = 0, protocol = 0, groups = 0, drain = 64, rcvbuf = 1u << 20;
  if (!p6_opt_u32(env, opts, "ifindex", &ifindex) || !p6_opt_u32(env, opts, "protocol", &protocol) || !p6_opt_u32(env, opts, "groups", &groups) ||
      !p6_opt_u32(env, opts, "drain", &drain) || !p6_opt_u32(env, opts, "recvBufferSize", &rcvbuf)) return NULL;
  if (drain < 1 || drain > LS_MAX_DRAIN) return p6_throw_type(env, "option drain must be 1..256");
  if (packet && (ifindex == 0 || protocol == 0 || protocol > 0xffff)) return p6_throw_type(env, "a packet socket needs ifindex and an EtherType protocol");
  void *filter = NULL;
  size_t flen = 0;
  if (!opt_bytes(env, opts, "filter", &filter, &flen)) return NULL;
  if (flen % sizeof(struct sock_filter) != 0 || flen / sizeof(struct sock_filter) > BPF_MAXINSNS) return p6_throw_type(env, "option filter must hold whole 8-octet BPF instructions");
  napi_value cb, ecb;
  P6_CALL(env, napi_get_named_property(env, opts, "onPackets", &cb));
  P6_CALL(env, napi_typeof(env, cb, &t));
  if (t != napi_function) return p6_throw_type(env, "option onPackets must be a function");
  P6_CALL(env, napi_get_named_property(env, opts, "onError", &ecb));
  P6_CALL(env, napi_typeof(env, ecb, &t));
  bool has_ecb = t == napi_function;

  int fd = packet ? socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
                  : socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    int e = errno;
    return p6_throw_errno(env, e, "socket", packet ? (e == EPERM ? "socket(AF_PACKET): the process lacks CAP_NET_RAW" : "socket(AF_PACKET)") : "socket(AF_NETLINK)");
  }
  int err = 0;
  const char *what = NULL;
  if (filter != NULL && flen > 0) {
    // Attached before bind: a socket with protocol 0 receives nothing, so no frame escapes it.
    struct sock_fprog prog = {.len = (unsigned short)(flen / sizeof(struct sock_filter)), .filter = filter};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
      err = errno;
      what = "setsockopt(SO_ATTACH_FILTER)";
    }
  }
  if (err == 0 && rcvbuf > 0 && p6_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)rcvbuf) != 0) p6_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
  if (err == 0 && packet) {
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons((uint16_t)protocol), .sll_ifindex = (int)ifindex};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      err = errno;
      what = "bind(AF_PACKET)";
    }
  } else if (err == 0) {
    struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = groups};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      err = errno;
      what = "bind(AF_NETLINK)";
    }
  }
  if (err != 0) {
    close(fd);
    return p6_throw_errno(env, err, strncmp(what, "bind", 4) == 0 ? "bind" : "setsockopt", what);
  }
  link_socket *s = calloc(1, sizeof *s);
  uint8_t *buf = malloc(LS_MAX_FRAME);
  if (s == NULL || buf == NULL) {
    free(s);
    free(buf);
    close(fd);
    return p6_throw_errno(env, ENOMEM, "malloc", "LinkSocket");
  }
  s->env = env;
  s->fd = fd;
  s->family = packet ? AF_PACKET : AF_NETLINK;
  s->ifindex = (int)ifindex;
  s->protocol = (uint16_t)protocol;
  s->drain = drain;
  s->buf = buf;
  s->open = true;
  napi_status st = napi_wrap(env, self, s, finalize, NULL, &s->self);
  if (st != napi_ok) {
    close(fd);
    ls_free(s);
    p6_throw_napi(env, st, "napi_wrap");
    return NULL;
  }
  uint32_t refs = 0;
  napi_reference_ref(env, s->self, &refs); // strong while open
  napi_value name;
  napi_create_string_utf8(env, "pmip6:LinkSocket", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, cb, 1, &s->on_packets) != napi_ok || (has_ecb && napi_create_reference(env, ecb, 1, &s->on_error) != napi_ok) ||
      napi_async_init(env, self, name, &s->actx) != napi_ok) {
    close_socket(s);
    return p6_throw_errno(env, ENOMEM, "napi", "LinkSocket callback");
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
    return p6_throw_errno(env, -uerr, "uv_poll_start", "LinkSocket: cannot poll the socket");
  }
  napi_add_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = true;
  return self;
}

// send(frame) -> 0 or errno. Packet sockets: a whole Ethernet frame out of the bound
// interface. Netlink sockets: a request to the kernel (pid 0).
static napi_value ls_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  link_socket *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  void *p = NULL;
  size_t len = 0;
  bool is_ta = false;
  napi_typedarray_type tt;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[0], &tt, &len, &p, NULL, NULL) != napi_ok || tt != napi_uint8_array) {
    return p6_throw_type(env, "send needs a Uint8Array");
  }
  int rc = 0;
  if (!s->open) {
    rc = EBADF;
  } else if (s->family == AF_PACKET) {
    if (len < 14) return p6_throw_type(env, "a frame holds at least an Ethernet header");
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_ifindex = s->ifindex, .sll_halen = 6};
    memcpy(&a.sll_protocol, (const uint8_t *)p + 12, 2); // the frame's own EtherType (network order)
    memcpy(a.sll_addr, p, 6);
    if (sendto(s->fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a) < 0) rc = errno;
  } else {
    struct sockaddr_nl a = {.nl_family = AF_NETLINK};
    if (sendto(s->fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a) < 0) rc = errno;
  }
  if (rc == 0) s->tx++;
  else s->tx_errors++;
  napi_value v;
  P6_CALL(env, napi_create_int32(env, rc, &v));
  return v;
}

static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value n;
  if (napi_create_double(env, v, &n) == napi_ok) napi_set_named_property(env, o, k, n);
}

static napi_value ls_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  link_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  napi_value o;
  P6_CALL(env, napi_create_object(env, &o));
  set_num(env, o, "rxPackets", s->rx);
  set_num(env, o, "rxBytes", s->rx_bytes);
  set_num(env, o, "rxErrors", s->rx_errors);
  set_num(env, o, "txPackets", s->tx);
  set_num(env, o, "txErrors", s->tx_errors);
  return o;
}

static napi_value ls_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  link_socket *s = unwrap(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, s);
  s->cleanup_hook = false;
  close_socket(s);
  return NULL;
}

napi_value p6_link_socket_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"send", NULL, ls_send, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, ls_stats, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, ls_close, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  P6_CALL(env, napi_define_class(env, "LinkSocket", NAPI_AUTO_LENGTH, ls_construct, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  P6_CALL(env, napi_set_named_property(env, exports, "LinkSocket", cls));
  return exports;
}
