// LinkSocket: AF_PACKET and NETLINK_ROUTE sockets for the MAG's access links. See link_socket.c.
#ifndef PMIP6_NATIVE_LINK_SOCKET_H
#define PMIP6_NATIVE_LINK_SOCKET_H

#include <node_api.h>

// Adds the LinkSocket class to exports.
napi_value p6_link_socket_init(napi_env env, napi_value exports);

#endif
