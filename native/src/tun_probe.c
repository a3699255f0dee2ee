// probeTun(): can this process run the user-space forwarder (tun_fwd.c)?
#include <errno.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "fwd_int.h"
#include "tun_fwd_int.h"

// probeTun() -> { ok: true } | { ok: false, code, message, what }: can this process create
// a TUN device (CAP_NET_ADMIN, /dev/net/tun) and open raw protocol-41 sockets, IPv6 and IPv4 (CAP_NET_RAW)?
napi_value fwd_probe_tun(napi_env env, napi_callback_info info) {
  (void)info;
  char name[IFNAMSIZ] = "p6probe%d";
  int fd = -1, e = fwd_open_tun(name, &fd);
  const char *what = "TUN device";
  if (fd >= 0) close(fd); // not persistent: it is gone again
  if (e == 0) {
    int s = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, 41);
    if (s < 0) e = errno, what = "raw IPv6 socket (protocol 41)";
    else close(s);
  }
  if (e == 0) { // IPv4 transport (RFC 5844 §4)
    int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, 41);
    if (s < 0) e = errno, what = "raw IPv4 socket (protocol 41)";
    else close(s);
  }
  return p6_probe_result(env, e, what);
}
