// MhSocket: raw IPv6 Mobility Header socket (IP protocol 135). See mh_socket.c.
#ifndef PMIP6_NATIVE_MH_SOCKET_H
#define PMIP6_NATIVE_MH_SOCKET_H

#include <node_api.h>

// Adds the MhSocket class and probeMh() to exports.
napi_value p6_mh_socket_init(napi_env env, napi_value exports);

#endif
