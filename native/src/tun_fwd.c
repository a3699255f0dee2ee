// TunForwarder (see fwd_int.h, fwd_path.c): construction opens the TUN device and the raw
// sockets and starts the threads; JavaScript then programs tunnels and routes under the
// table's write lock and reads counters. close() (or the finalizer, or the environment's
// teardown) stops the threads and closes everything: a non-persistent TUN device vanishes
// with its last descriptor, so a crashed process leaves no device behind.
#include "tun_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "fwd_int.h"
#include "tun_fwd_int.h"

typedef struct {
  fwd f;
  bool open;
  bool cleanup_hook;
} tun_fwd;

static void close_fds(fwd *f) {
  int *fds[] = {&f->raw6_fd, &f->raw4_fd, &f->gre_fd, &f->stop_fd, &f->udp_fd, &f->wake_fd};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
    if (*fds[i] >= 0) close(*fds[i]);
    *fds[i] = -1;
  }
  for (unsigned c = 0; c < FWD_MAX_CTX; c++) {
    if (f->tun_fds[c] >= 0) close(f->tun_fds[c]);
    f->tun_fds[c] = -1;
  }
  for (int i = 0; i < FWD_V4_SOCKS; i++) {
    if (f->v4_fds[i] >= 0) close(f->v4_fds[i]);
    f->v4_fds[i] = -1;
  }
}

static void tf_shutdown(tun_fwd *t) {
  if (!t->open) return;
  t->open = false;
  fwd_stop_threads(&t->f);
  close_fds(&t->f);
  fwd_table_free(&t->f.table);
  pthread_rwlock_destroy(&t->f.lock);
}

static void env_cleanup(void *arg) {
  tun_fwd *t = arg;
  t->cleanup_hook = false;
  tf_shutdown(t);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  tun_fwd *t = data;
  if (t->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, t);
  tf_shutdown(t);
  free(t);
}

static tun_fwd *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  tun_fwd *t = p6_unwrap_this(env, info, argc, argv, "a TunForwarder");
  if (t == NULL) return NULL;
  if (!t->open) {
    p6_throw_errno(env, EBADF, "TunForwarder", "TunForwarder is closed");
    return NULL;
  }
  return t;
}

static int open_raw(int proto, uint32_t rcvbuf, int *fd) {
  int s = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (s < 0) return errno;
  int err = p6_setsockopt_int(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
  if (!err && rcvbuf && p6_setsockopt_int(s, SOL_SOCKET, SO_RCVBUFFORCE, (int)rcvbuf) != 0) p6_setsockopt_int(s, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
  if (err) {
    close(s);
    return err;
  }
  *fd = s;
  return 0;
}

// new TunForwarder({ name, role: 'lma'|'mag', contexts?, mtu?, batch?, maxTunnels?, maxRoutes?, recvBufferSize? })
static napi_value tf_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  P6_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  napi_valuetype vt = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &vt) != napi_ok || vt != napi_object) return p6_throw_type(env, "TunForwarder needs an options object");
  char name[IFNAMSIZ + 1] = "", role[8] = "";
  bool has = false;
  if (!p6_opt_string(env, argv[0], "name", name, sizeof name, &has)) return NULL;
  if (!has || name[0] == '\0') return p6_throw_type(env, "option name is required (the TUN device, at most 15 characters)");
  if (!p6_opt_string(env, argv[0], "role", role, sizeof role, &has)) return NULL;
  int r = has && strcmp(role, "lma") == 0 ? FWD_ROLE_LMA : has && strcmp(role, "mag") == 0 ? FWD_ROLE_MAG : 0;
  if (r == 0) return p6_throw_type(env, "option role must be 'lma' or 'mag'");
  uint32_t mtu = 0, batch = 32, max_tunnels = 4096, max_routes = 65536, rcvbuf = 4u << 20;
  if (!p6_opt_u32(env, argv[0], "mtu", &mtu) || !p6_opt_u32(env, argv[0], "batch", &batch) ||
      !p6_opt_u32(env, argv[0], "maxTunnels", &max_tunnels) || !p6_opt_u32(env, argv[0], "maxRoutes", &max_routes) ||
      !p6_opt_u32(env, argv[0], "recvBufferSize", &rcvbuf))
    return NULL;
  if (batch < 1 || batch > FWD_MAX_BATCH) return p6_throw_type(env, "option batch must be 1..64");
  if (max_tunnels < 1 || max_tunnels > (1u << 20) || max_routes < 1 || max_routes > (1u << 24)) return p6_throw_type(env, "maxTunnels/maxRoutes out of range");
  if (mtu != 0 && (mtu < 1280 || mtu > 65535)) return p6_throw_type(env, "option mtu must be 1280..65535 (RFC 8200 §5)");

  tun_fwd *t = calloc(1, sizeof *t);
  if (t == NULL) return p6_throw_errno(env, ENOMEM, "calloc", "TunForwarder");
  fwd *f = &t->f;
  f->raw6_fd = f->raw4_fd = f->gre_fd = f->stop_fd = -1;
  for (int i = 0; i < FWD_V4_SOCKS; i++) f->v4_fds[i] = -1;
  f->udp_fd = f->wake_fd = -1;
  for (unsigned c = 0; c < FWD_MAX_CTX; c++) f->tun_fds[c] = -1;
  f->role = r;
  f->batch = batch;
  snprintf(f->ctx_names[0], IFNAMSIZ, "%s", name);
  if (!fwd_read_contexts(env, argv[0], f)) {
    free(t);
    return NULL;
  }
  const char *what = "open /dev/net/tun";
  const char *sys = "open";
  int err = 0;
  for (unsigned c = 0; c < f->n_ctx && !err; c++) err = fwd_open_ctx(f, c, mtu, &what, &sys);
  snprintf(f->name, IFNAMSIZ, "%s", f->ctx_names[0]);
  f->ifindex = f->ctx_ifindex[0];
  if (!err && (err = open_raw(41, rcvbuf, &f->raw6_fd))) what = "TunForwarder: raw IPv6 socket for protocol 41", sys = "socket";
  if (!err && (err = open_raw(4, rcvbuf, &f->raw4_fd))) what = "TunForwarder: raw IPv6 socket for protocol 4", sys = "socket";
  if (!err && (err = open_raw(IPPROTO_GRE, rcvbuf, &f->gre_fd))) what = "TunForwarder: raw IPv6 socket for protocol 47", sys = "socket";
  if (!err && (err = fwd_open_v4(f, rcvbuf, &what))) sys = "socket";
  if (!err && (f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) err = errno, what = "eventfd", sys = "eventfd";
  if (!err && (f->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) err = errno, what = "eventfd", sys = "eventfd";
  if (!err && (err = fwd_table_init(&f->table, max_tunnels, max_routes))) what = "TunForwarder: tables", sys = "calloc";
  if (err) {
    close_fds(f);
    fwd_table_free(&f->table);
    free(t);
    return p6_throw_errno(env, err, sys, what);
  }
  pthread_rwlock_init(&f->lock, NULL);
  t->open = true;
  if ((err = fwd_start_threads(f)) != 0) {
    t->open = false;
    close_fds(f);
    fwd_table_free(&f->table);
    pthread_rwlock_destroy(&f->lock);
    free(t);
    return p6_throw_errno(env, err, "pthread_create", "TunForwarder: threads");
  }
  napi_status st = napi_wrap(env, self, t, finalize, NULL, NULL);
  if (st != napi_ok) {
    tf_shutdown(t);
    free(t);
    p6_throw_napi(env, st, "napi_wrap");
    return NULL;
  }
  if (napi_add_env_cleanup_hook(env, env_cleanup, t) == napi_ok) t->cleanup_hook = true;
  return self;
}

static bool parse_addr(napi_env env, napi_value v, int *family, uint8_t *out) {
  char text[INET6_ADDRSTRLEN + 1];
  if (!p6_get_string(env, v, text, sizeof text, "address")) return false;
  memset(out, 0, 16);
  if (inet_pton(AF_INET6, text, out) == 1) *family = 6;
  else if (inet_pton(AF_INET, text, out) == 1) *family = 4;
  else {
    p6_throw_type(env, "not an IPv6 or IPv4 address");
    return false;
  }
  return true;
}

// addTunnel({ local, remote, encap: 'ip6'|'gre', keyIn?, keyOut?, ctx? }) -> slot
static napi_value tf_add_tunnel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tun_fwd *t = unwrap(env, info, &argc, argv);
  if (t == NULL) return NULL;
  if (argc < 1) return p6_throw_type(env, "addTunnel needs a tunnel");
  fwd_tunnel spec;
  memset(&spec, 0, sizeof spec);
  char local[INET6_ADDRSTRLEN + 1], remote[INET6_ADDRSTRLEN + 1], encap[8];
  bool has_l, has_r, has_e;
  if (!p6_opt_string(env, argv[0], "local", local, sizeof local, &has_l) || !p6_opt_string(env, argv[0], "remote", remote, sizeof remote, &has_r) ||
      !p6_opt_string(env, argv[0], "encap", encap, sizeof encap, &has_e))
    return NULL;
  // IPv4 endpoints (RFC 5844 §4 transport) are kept IPv4-mapped; both ends of one family.
  uint8_t a4[4];
  int fl = !has_l ? 0 : inet_pton(AF_INET6, local, &spec.local) == 1 ? 6 : inet_pton(AF_INET, local, a4) == 1 ? (fwd_v4_map(a4, &spec.local), 4) : 0;
  int fr = !has_r ? 0 : inet_pton(AF_INET6, remote, &spec.remote) == 1 ? 6 : inet_pton(AF_INET, remote, a4) == 1 ? (fwd_v4_map(a4, &spec.remote), 4) : 0;
  if (fl == 0 || fl != fr || (fl == 6 && (fwd_is_v4(&spec.local) || fwd_is_v4(&spec.remote))))
    return p6_throw_type(env, "local and remote must be two IPv6 or two IPv4 addresses");
  if (!has_e || (strcmp(encap, "ip6") != 0 && strcmp(encap, "gre") != 0 && strcmp(encap, "udp") != 0)) return p6_throw_type(env, "encap must be 'ip6', 'gre' or 'udp'");
  spec.encap = strcmp(encap, "gre") == 0 ? FWD_ENCAP_GRE : strcmp(encap, "udp") == 0 ? FWD_ENCAP_UDP : FWD_ENCAP_IP6;
  if (spec.encap == FWD_ENCAP_UDP && fl != 4) return p6_throw_type(env, "encap 'udp' (IPv4-UDP, RFC 5844 §4.1) needs IPv4 endpoints");
  napi_value v;
  napi_valuetype vt;
  if (napi_get_named_property(env, argv[0], "keyIn", &v) == napi_ok && napi_typeof(env, v, &vt) == napi_ok && vt == napi_number) {
    spec.has_key_in = true;
    napi_get_value_uint32(env, v, &spec.key_in);
  }
  if (napi_get_named_property(env, argv[0], "keyOut", &v) == napi_ok && napi_typeof(env, v, &vt) == napi_ok && vt == napi_number) {
    spec.has_key_out = true;
    napi_get_value_uint32(env, v, &spec.key_out);
  }
  if (spec.encap != FWD_ENCAP_GRE && (spec.has_key_in || spec.has_key_out)) return p6_throw_type(env, "keys need encap 'gre'");
  uint32_t ctx = 0;
  if (!p6_opt_u32(env, argv[0], "ctx", &ctx)) return NULL;
  if (ctx >= t->f.n_ctx) return p6_throw_type(env, "ctx is not a routing context of this forwarder");
  spec.ctx = (uint16_t)ctx;
  uint32_t slot = 0;
  pthread_rwlock_wrlock(&t->f.lock);
  int err = spec.encap == FWD_ENCAP_UDP ? fwd_open_udp(&t->f) : 0;
  if (err) {
    pthread_rwlock_unlock(&t->f.lock);
    return p6_throw_errno(env, err, "socket", "TunForwarder: UDP socket on port 5437 (IPv4-UDP, RFC 5844 §4.1)");
  }
  err = fwd_tunnel_add(&t->f.table, &spec, &slot);
  pthread_rwlock_unlock(&t->f.lock);
  if (err) return p6_throw_errno(env, err, "addTunnel", err == EEXIST ? "TunForwarder: a tunnel from that peer with that key exists" : "TunForwarder: tunnel table full");
  napi_value out;
  P6_CALL(env, napi_create_uint32(env, slot, &out));
  return out;
}

static bool get_u32(napi_env env, napi_value v, uint32_t *out, const char *what) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    p6_throw_type(env, what);
    return false;
  }
  return true;
}

// removeTunnel(slot) -> 0 or ENOENT
static napi_value tf_remove_tunnel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tun_fwd *t = unwrap(env, info, &argc, argv);
  uint32_t slot;
  if (t == NULL || !get_u32(env, argv[0], &slot, "slot must be a number")) return NULL;
  pthread_rwlock_wrlock(&t->f.lock);
  int err = fwd_tunnel_remove(&t->f.table, slot);
  pthread_rwlock_unlock(&t->f.lock);
  napi_value out;
  P6_CALL(env, napi_create_int32(env, err, &out));
  return out;
}

// addRoute(address, prefixLength, slot) / removeRoute(address, prefixLength, slot) -> 0 or errno
static napi_value route_op(napi_env env, napi_callback_info info, bool add) {
  size_t argc = 3;
  napi_value argv[3];
  tun_fwd *t = unwrap(env, info, &argc, argv);
  if (t == NULL) return NULL;
  if (argc < 3) return p6_throw_type(env, "(address, prefixLength, slot) expected");
  int family = 0;
  uint8_t addr[16];
  uint32_t plen, slot;
  if (!parse_addr(env, argv[0], &family, addr) || !get_u32(env, argv[1], &plen, "prefixLength must be a number") || !get_u32(env, argv[2], &slot, "slot must be a number")) return NULL;
  pthread_rwlock_wrlock(&t->f.lock);
  int err = add ? fwd_route_add(&t->f.table, family, addr, plen, slot) : fwd_route_remove(&t->f.table, family, addr, plen, slot);
  pthread_rwlock_unlock(&t->f.lock);
  napi_value out;
  P6_CALL(env, napi_create_int32(env, err, &out));
  return out;
}
static napi_value tf_add_route(napi_env env, napi_callback_info info) { return route_op(env, info, true); }
static napi_value tf_remove_route(napi_env env, napi_callback_info info) { return route_op(env, info, false); }

// stats() -> { name, ifindex, tx, rx, drops, tunnels, routes, contexts } (fwd_stats.c)
static napi_value tf_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  tun_fwd *t = unwrap(env, info, &argc, NULL);
  if (t == NULL) return NULL;
  return fwd_stats_object(env, &t->f);
}

// tunnelStats(slot) -> { txPackets, txBytes, rxPackets, rxBytes } or null (fwd_stats.c)
static napi_value tf_tunnel_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tun_fwd *t = unwrap(env, info, &argc, argv);
  uint32_t slot;
  if (t == NULL || !get_u32(env, argv[0], &slot, "slot must be a number")) return NULL;
  return fwd_tunnel_stats_object(env, &t->f, slot);
}

static napi_value tf_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self, u;
  void *data = NULL;
  P6_CALL(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  if (napi_unwrap(env, self, &data) == napi_ok && data != NULL) tf_shutdown(data);
  napi_get_undefined(env, &u);
  return u;
}

napi_value p6_tun_fwd_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"addTunnel", NULL, tf_add_tunnel, NULL, NULL, NULL, napi_default_method, NULL},
      {"removeTunnel", NULL, tf_remove_tunnel, NULL, NULL, NULL, napi_default_method, NULL},
      {"addRoute", NULL, tf_add_route, NULL, NULL, NULL, napi_default_method, NULL},
      {"removeRoute", NULL, tf_remove_route, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, tf_stats, NULL, NULL, NULL, napi_default_method, NULL},
      {"tunnelStats", NULL, tf_tunnel_stats, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, tf_close, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls, fn;
  P6_CALL(env, napi_define_class(env, "TunForwarder", NAPI_AUTO_LENGTH, tf_construct, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  P6_CALL(env, napi_set_named_property(env, exports, "TunForwarder", cls));
  P6_CALL(env, napi_create_function(env, "probeTun", NAPI_AUTO_LENGTH, fwd_probe_tun, NULL, &fn));
  P6_CALL(env, napi_set_named_property(env, exports, "probeTun", fn));
  return exports;
}
