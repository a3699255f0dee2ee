// MhSocket sending (see mh_socket.c): sendmsg with IPV6_PKTINFO for the source address, and
// ICMPv6 Parameter Problem (RFC 6275 §9.2, RFC 4443 §3.4) from a send-only ICMPv6 socket.
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "mh_socket_int.h"

/* ------------------------------------------------------------------ methods */

static bool get_bytes(napi_env env, napi_value v, const uint8_t **p, size_t *len) {
  bool ok = false;
  if (napi_is_buffer(env, v, &ok) == napi_ok && ok) return napi_get_buffer_info(env, v, (void **)p, len) == napi_ok;
  if (napi_is_typedarray(env, v, &ok) == napi_ok && ok) {
    napi_typedarray_type t;
    if (napi_get_typedarray_info(env, v, &t, len, (void **)p, NULL, NULL) != napi_ok) return false;
    if (t == napi_uint8_array) return true;
  }
  p6_throw_type(env, "data must be a Buffer or Uint8Array");
  return false;
}

// Parses "dst" and optional "src" arguments; false with an exception thrown on bad input.
static bool get_addresses(napi_env env, napi_value dv, napi_value sv, struct sockaddr_in6 *dst, struct sockaddr_in6 *src, bool *has_src) {
  char text[INET6_ADDRSTRLEN + 32];
  if (!p6_get_string(env, dv, text, sizeof text, "destination")) return false;
  int e = p6_parse_in6(text, dst);
  if (e != 0) {
    p6_throw_type(env, "destination is not an IPv6 address");
    return false;
  }
  napi_valuetype t = napi_undefined;
  *has_src = false;
  if (sv != NULL && napi_typeof(env, sv, &t) == napi_ok && t != napi_undefined && t != napi_null) {
    if (!p6_get_string(env, sv, text, sizeof text, "source")) return false;
    if (p6_parse_in6(text, src) != 0) {
      p6_throw_type(env, "source is not an IPv6 address");
      return false;
    }
    *has_src = true;
  }
  return true;
}

static int send_from(int fd, const void *data, size_t len, const struct sockaddr_in6 *dst, const struct sockaddr_in6 *src, bool has_src) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  union {
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } ctrl;
  struct msghdr mh = {.msg_name = (void *)dst, .msg_namelen = sizeof *dst, .msg_iov = &iov, .msg_iovlen = 1};
  if (has_src) {
    memset(&ctrl, 0, sizeof ctrl);
    mh.msg_control = ctrl.buf;
    mh.msg_controllen = sizeof ctrl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi = {.ipi6_addr = src->sin6_addr, .ipi6_ifindex = src->sin6_scope_id};
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
  for (;;) {
    if (sendmsg(fd, &mh, MSG_DONTWAIT) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// send(data, destination, source?) -> 0, or the errno of a failed sendmsg (EAGAIN: send buffer full).
napi_value p6_mh_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  mh_socket *s = p6_mh_unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 2) return p6_throw_type(env, "send(data, destination, source?)");
  const uint8_t *p;
  size_t len;
  struct sockaddr_in6 dst, src;
  bool has_src;
  if (!get_bytes(env, argv[0], &p, &len)) return NULL;
  if (!get_addresses(env, argv[1], argc > 2 ? argv[2] : NULL, &dst, &src, &has_src)) return NULL;
  int err = s->open ? send_from(s->fd, p, len, &dst, &src, has_src) : EBADF;
  if (err == 0) {
    s->st.tx_packets++;
    s->st.tx_bytes += len;
  } else {
    s->st.tx_errors++;
  }
  napi_value r;
  napi_create_int32(env, err, &r);
  return r;
}

// Datagrams per sendmmsg call in sendBatch.
#define TX_BATCH 64

static bool get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **p, size_t *n, const char *what) {
  bool ok = false;
  napi_typedarray_type t;
  if (napi_is_typedarray(env, v, &ok) != napi_ok || !ok || napi_get_typedarray_info(env, v, &t, n, p, NULL, NULL) != napi_ok || t != want) {
    p6_throw_type(env, what);
    return false;
  }
  return true;
}

// sendBatch(data, info, addrs, count, errs) -> datagrams sent.
// Datagram i is data[info[4i], +info[4i+1]) to the address in addrs[32i, +16) with scope id
// info[4i+2]; with bit 0 of info[4i+3] set, from addrs[32i+16, +16) (IPV6_PKTINFO, as send()).
// One sendmmsg per up to TX_BATCH datagrams; one that fails gets its errno in errs[i] (0 for the
// others) and is skipped, the rest still go.
napi_value p6_mh_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  mh_socket *s = p6_mh_unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 5) return p6_throw_type(env, "sendBatch(data, info, addrs, count, errs)");
  const uint8_t *data;
  size_t dlen, ilen, alen, elen;
  uint32_t *inf;
  uint8_t *addrs;
  int32_t *errs;
  uint32_t count = 0;
  if (!get_bytes(env, argv[0], &data, &dlen)) return NULL;
  if (!get_typed(env, argv[1], napi_uint32_array, (void **)&inf, &ilen, "info must be a Uint32Array")) return NULL;
  if (!get_typed(env, argv[2], napi_uint8_array, (void **)&addrs, &alen, "addrs must be a Uint8Array")) return NULL;
  if (!get_typed(env, argv[4], napi_int32_array, (void **)&errs, &elen, "errs must be an Int32Array")) return NULL;
  if (napi_get_value_uint32(env, argv[3], &count) != napi_ok || (size_t)count * 4 > ilen || (size_t)count * 32 > alen || count > elen) {
    return p6_throw_type(env, "count must fit info, addrs and errs");
  }
  for (uint32_t i = 0; i < count; i++) {
    if ((uint64_t)inf[4 * i] + inf[4 * i + 1] > dlen) return p6_throw_type(env, "a datagram lies outside data");
  }
  struct mmsghdr m[TX_BATCH];
  struct iovec iov[TX_BATCH];
  struct sockaddr_in6 dst[TX_BATCH];
  union {
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } ctrl[TX_BATCH];
  uint32_t done = 0, sent = 0;
  while (done < count) {
    unsigned k = count - done < TX_BATCH ? count - done : TX_BATCH;
    for (unsigned j = 0; j < k; j++) {
      uint32_t i = done + j;
      memset(&m[j], 0, sizeof m[j]);
      memset(&dst[j], 0, sizeof dst[j]);
      dst[j].sin6_family = AF_INET6;
      memcpy(&dst[j].sin6_addr, addrs + 32 * (size_t)i, 16);
      dst[j].sin6_scope_id = inf[4 * i + 2];
      iov[j].iov_base = (void *)(data + inf[4 * i]);
      iov[j].iov_len = inf[4 * i + 1];
      struct msghdr *h = &m[j].msg_hdr;
      h->msg_name = &dst[j];
      h->msg_namelen = sizeof dst[j];
      h->msg_iov = &iov[j];
      h->msg_iovlen = 1;
      if (inf[4 * i + 3] & 1) {
        memset(&ctrl[j], 0, sizeof ctrl[j]);
        h->msg_control = ctrl[j].buf;
        h->msg_controllen = sizeof ctrl[j].buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(h);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        struct in6_pktinfo pi = {.ipi6_ifindex = dst[j].sin6_scope_id};
        memcpy(&pi.ipi6_addr, addrs + 32 * (size_t)i + 16, 16);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
      }
    }
    int n = s->open ? sendmmsg(s->fd, m, k, MSG_DONTWAIT) : -1;
    int e = s->open ? errno : EBADF;
    if (n < 0) {
      if (e == EINTR) continue;
      errs[done] = e; // the first datagram of the run failed: skip it, send the rest
      s->st.tx_errors++;
      done++;
      continue;
    }
    for (int j = 0; j < n; j++) {
      errs[done + j] = 0;
      s->st.tx_packets++;
      s->st.tx_bytes += iov[j].iov_len;
    }
    sent += (uint32_t)n;
    done += (uint32_t)n;
  }
  napi_value r;
  napi_create_uint32(env, sent, &r);
  return r;
}

// parameterProblem(pointer, mh, peer, local, hopLimit) -> 0 or errno.
// RFC 6275 §9.2: ICMPv6 Parameter Problem, Code 0 (RFC 4443 §3.4), to the source of the
// packet, pointing into the invoking packet, which is rebuilt here from what the socket
// reported: an IPv6 header (traffic class and flow label unknown: 0) followed by the MH.
napi_value p6_mh_parameter_problem(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  mh_socket *s = p6_mh_unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 5) return p6_throw_type(env, "parameterProblem(pointer, mh, peer, local, hopLimit)");
  uint32_t pointer = 0, hoplimit = 0;
  if (napi_get_value_uint32(env, argv[0], &pointer) != napi_ok || napi_get_value_uint32(env, argv[4], &hoplimit) != napi_ok) {
    return p6_throw_type(env, "pointer and hopLimit must be numbers");
  }
  const uint8_t *mh;
  size_t mhlen;
  struct sockaddr_in6 peer, local;
  bool has_local;
  if (!get_bytes(env, argv[1], &mh, &mhlen)) return NULL;
  if (!get_addresses(env, argv[2], argv[3], &peer, &local, &has_local)) return NULL;
  int err = 0;
  if (!s->open) err = EBADF;
  if (err == 0 && s->icmp_fd < 0) {
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) {
      err = errno;
    } else {
      struct icmp6_filter f;
      ICMP6_FILTER_SETBLOCKALL(&f); // send only: nothing queues up on this socket
      setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
      s->icmp_fd = fd;
    }
  }
  if (err == 0) {
    uint8_t pkt[ICMP6_ERROR_MAX];
    size_t room = sizeof pkt - 8 - 40;
    size_t body = mhlen < room ? mhlen : room;
    memset(pkt, 0, 48);
    pkt[0] = ICMP6_PARAM_PROB;
    pkt[1] = ICMP6_PARAMPROB_HEADER; // code 0: erroneous header field
    uint32_t ptr = htonl(40 + pointer);  // offset in the invoking packet: after its IPv6 header
    memcpy(pkt + 4, &ptr, 4);
    struct ip6_hdr *ip = (struct ip6_hdr *)(pkt + 8);
    ip->ip6_flow = htonl(6u << 28);
    ip->ip6_plen = htons((uint16_t)mhlen);
    ip->ip6_nxt = IPPROTO_MH;
    ip->ip6_hlim = (uint8_t)hoplimit;
    ip->ip6_src = peer.sin6_addr;
    ip->ip6_dst = has_local ? local.sin6_addr : s->bound.sin6_addr;
    memcpy(pkt + 48, mh, body);
    // The kernel computes the ICMPv6 checksum of raw ICMPv6 sockets (RFC 3542 §3.1).
    err = send_from(s->icmp_fd, pkt, 48 + body, &peer, &local, has_local);
  }
  if (err == 0) s->st.icmp_sent++;
  else s->st.icmp_errors++;
  napi_value r;
  napi_create_int32(env, err, &r);
  return r;
}

