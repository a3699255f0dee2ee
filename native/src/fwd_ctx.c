// TUN devices and routing contexts of the user-space forwarder (fwd_table.h): one TUN device each, opened at
// construction from options.contexts (context 0 is options.name), and their counters.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "fwd_int.h"

// Reads options.contexts: the TUN device names of routing contexts 1.. (context 0 is `name`).
bool fwd_read_contexts(napi_env env, napi_value opts, fwd *f) {
  f->n_ctx = 1;
  napi_value arr;
  bool is_arr = false;
  if (napi_get_named_property(env, opts, "contexts", &arr) != napi_ok) return false;
  napi_valuetype vt;
  if (napi_typeof(env, arr, &vt) != napi_ok) return false;
  if (vt == napi_undefined) return true;
  if (napi_is_array(env, arr, &is_arr) != napi_ok || !is_arr) {
    p6_throw_type(env, "option contexts must be an array of TUN device names");
    return false;
  }
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  if (n > FWD_MAX_CTX - 1) {
    p6_throw_type(env, "option contexts: at most 15 routing contexts besides the default");
    return false;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    char name[IFNAMSIZ + 1];
    if (napi_get_element(env, arr, i, &v) != napi_ok || !p6_get_string(env, v, name, sizeof name, "contexts[i]")) return false;
    if (name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
      p6_throw_type(env, "option contexts: TUN device names of 1..15 characters");
      return false;
    }
    snprintf(f->ctx_names[f->n_ctx++], IFNAMSIZ, "%s", name);
  }
  return true;
}

// Opens context c's TUN device (non-blocking, up, MTU). 0 or errno; *what says which step failed.
int fwd_open_ctx(fwd *f, unsigned c, uint32_t mtu, const char **what, const char **sys) {
  int err = fwd_open_tun(f->ctx_names[c], &f->tun_fds[c]);
  if (err) {
    *what = err == ENOENT ? "open /dev/net/tun" : "TunForwarder: TUNSETIFF on /dev/net/tun (needs CAP_NET_ADMIN; EBUSY: the device is in use)";
    *sys = err == ENOENT ? "open" : "ioctl";
    return err;
  }
  int fl = fcntl(f->tun_fds[c], F_GETFL);
  if (fl < 0 || fcntl(f->tun_fds[c], F_SETFL, fl | O_NONBLOCK) < 0) {
    *what = "TunForwarder: O_NONBLOCK on the TUN device", *sys = "fcntl";
    return errno;
  }
  if ((err = fwd_link_up(f->ctx_names[c], mtu, &f->ctx_ifindex[c]))) *what = "TunForwarder: setting the TUN device's MTU and bringing it up", *sys = "ioctl";
  return err;
}

// stats().contexts: per routing context, its TUN device and packets to / from tunnels.
napi_value fwd_contexts_stats(napi_env env, fwd *f) {
  napi_value ctxs, v;
  if (napi_create_array_with_length(env, f->n_ctx, &ctxs) != napi_ok) return NULL;
  for (unsigned c = 0; c < f->n_ctx; c++) {
    napi_value co;
    if (napi_create_object(env, &co) != napi_ok) return NULL;
    if (napi_create_string_utf8(env, f->ctx_names[c], NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, co, "tun", v);
    fwd_set_num(env, co, "ifindex", f->ctx_ifindex[c]);
    fwd_set_num(env, co, "txPackets", (double)__atomic_load_n(&f->ctx_tx[c], __ATOMIC_RELAXED));
    fwd_set_num(env, co, "rxPackets", (double)__atomic_load_n(&f->ctx_rx[c], __ATOMIC_RELAXED));
    napi_set_element(env, ctxs, c, co);
  }
  return ctxs;
}

// Opens (or attaches to) the TUN device `name`: IFF_TUN without packet information, so
// every read and write is one bare IP packet. 0 or errno; *fd and name (the kernel's) out.
int fwd_open_tun(char *name, int *fd) {
  int f = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (f < 0) return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(f, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(f);
    return e;
  }
  snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
  *fd = f;
  return 0;
}

// MTU and IFF_UP through the classic interface ioctls. 0 or errno.
int fwd_link_up(const char *name, uint32_t mtu, int *ifindex) {
  int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  int err = 0;
  if (mtu) {
    ifr.ifr_mtu = (int)mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) err = errno;
  }
  if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0) err = errno;
  if (!err) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) err = errno;
  }
  if (!err && ioctl(s, SIOCGIFINDEX, &ifr) < 0) err = errno;
  if (!err) *ifindex = ifr.ifr_ifindex;
  close(s);
  return err;
}
