// TunForwarder: the user-space data plane's packet path (a TUN device, raw IPv6 sockets for
// protocols 41, 4 and 47, two threads), programmed from JavaScript. probeTun().
#ifndef PMIP6_NATIVE_TUN_FWD_H
#define PMIP6_NATIVE_TUN_FWD_H

#include <node_api.h>

napi_value p6_tun_fwd_init(napi_env env, napi_value exports);

#endif
