// Internals of MhSocket shared by its files: mh_socket.c (life cycle, construction,
// stats), mh_rx.c (the receive path), mh_tx.c (sending, ICMPv6 Parameter Problem).
#ifndef PMIP6_NATIVE_MH_SOCKET_INT_H
#define PMIP6_NATIVE_MH_SOCKET_INT_H

#include <node_api.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "rx_batch.h"

#ifndef IPPROTO_MH
#define IPPROTO_MH 135
#endif

// RFC 6275 §6.1.1: Header Len is 8 bits in 8-octet units beyond the first 8: at most 2048 octets.
#define MH_MAX_OCTETS 2048
#define CTRL_SIZE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + P6_RX_TS_CTRL + 64)
// Drop records handed to JavaScript per batch (the rest are counted only).
#define MAX_DROP_RECORDS 16
// RFC 4443 §2.4 (c): an ICMPv6 error must fit the minimum IPv6 MTU.
#define ICMP6_ERROR_MAX (1280 - 40)
// Destinations a socket bound to :: may be told to accept.
#define MAX_ACCEPT 16

enum drop_cause { DROP_OVERSIZED = 1, DROP_WRONG_DESTINATION = 2, DROP_TYPE_FILTERED = 3 };

typedef struct {
  double rx_batches, rx_packets, rx_bytes, delivered, oversized, wrong_destination, type_filtered, rx_errors;
  double tx_packets, tx_bytes, tx_errors, icmp_sent, icmp_errors;
  int last_rx_error;
} mh_stats;

typedef struct mh_socket {
  napi_env env;
  napi_ref self;       // strong while open: a polled socket keeps its JavaScript object alive
  napi_ref on_packets; // the batch callback
  napi_async_context actx;
  int fd;
  int icmp_fd;
  uv_poll_t *poll;
  bool open;
  int in_callback;     // > 0 while JavaScript runs from a poll callback
  bool free_pending;   // finalized while in a callback: free when it returns
  bool cleanup_hook;
  struct sockaddr_in6 bound;
  struct in6_addr accept[MAX_ACCEPT]; // destinations delivered; none = all
  unsigned naccept;
  uint8_t types[32];   // MH Types delivered (bit set)
  unsigned drain_batches;
  p6_rx_batch rx;
  mh_stats st;
} mh_socket;

// The MhSocket behind a JavaScript `this` (TypeError thrown and NULL when it is not one).
mh_socket *p6_mh_unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);
// Frees a socket's memory (after it was closed).
void p6_mh_free(mh_socket *s);
// uv_poll callback: drains the socket in batches and hands them to JavaScript (mh_rx.c).
void p6_mh_on_poll(uv_poll_t *h, int status, int events);
// send(data, destination, source?), sendBatch(...) and parameterProblem(...) (mh_tx.c).
napi_value p6_mh_send(napi_env env, napi_callback_info info);
// sendBatch(data, info, addrs, count, errs): sendmmsg (mh_tx.c).
napi_value p6_mh_send_batch(napi_env env, napi_callback_info info);
napi_value p6_mh_parameter_problem(napi_env env, napi_callback_info info);

#endif
