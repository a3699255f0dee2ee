// UdpSocket: IPv4 UDP with recvmmsg / sendmmsg batches. See udp_mmsg.c.
#ifndef PMIP6_NATIVE_UDP_MMSG_H
#define PMIP6_NATIVE_UDP_MMSG_H

#include <node_api.h>

// Adds the UdpSocket class to exports.
napi_value p6_udp_socket_init(napi_env env, napi_value exports);

#endif
