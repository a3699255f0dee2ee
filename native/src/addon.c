// pmip6_native: the PMIP6 Suite's own Node-API addon. Each feature lives in its own file
// and adds itself to the exports here (mh_socket.c: raw IPv6 Mobility Header sockets).
#include <node_api.h>

#include "mh_socket.h"
#include "tun_fwd.h"
#ifdef __linux__
#include "link_socket.h"
#include "rtnl.h"
#include "udp_mmsg.h"
#endif

static napi_value init(napi_env env, napi_value exports) {
  if (p6_mh_socket_init(env, exports) == NULL) return NULL;
  if (p6_tun_fwd_init(env, exports) == NULL) return NULL;
#ifdef __linux__
  // link_socket.c: AF_PACKET and rtnetlink sockets for the attach detector (src/attach/).
  if (p6_link_socket_init(env, exports) == NULL) return NULL;
  // udp_mmsg.c: the batched IPv4/UDP socket (src/transport/udp-native.ts).
  if (p6_udp_socket_init(env, exports) == NULL) return NULL;
  // rtnl.c: routes and policy rules through rtnetlink (src/dataplane/rtnl.ts).
  if (p6_rtnl_init(env, exports) == NULL) return NULL;
#endif
  napi_value v;
  // Bumped when the JavaScript-facing interface changes (src/transport/native.ts checks it).
  if (napi_create_uint32(env, 1, &v) == napi_ok) napi_set_named_property(env, exports, "abiVersion", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
