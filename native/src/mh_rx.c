// MhSocket receive path (see mh_socket.c): a level-triggered uv_poll, non-blocking recvmmsg
// batches, the C filters (accept list, MH Types, size), one JavaScript call per batch.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "mh_socket_int.h"

/* ------------------------------------------------------------------ receive */

static inline bool type_allowed(const mh_socket *s, uint8_t t) { return (s->types[t >> 3] >> (t & 7)) & 1; }

static bool accepted(const mh_socket *s, const struct in6_addr *dst) {
  for (unsigned i = 0; i < s->naccept; i++) {
    if (memcmp(&s->accept[i], dst, sizeof *dst) == 0) return true;
  }
  return false;
}

typedef struct {
  struct in6_addr dst;
  uint32_t ifindex;
  int hoplimit;
  bool have_dst;
} rx_meta;

static void read_cmsgs(struct msghdr *h, rx_meta *m) {
  m->have_dst = false;
  m->ifindex = 0;
  m->hoplimit = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      m->dst = pi.ipi6_addr;
      m->ifindex = pi.ipi6_ifindex;
      m->have_dst = true;
    } else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(&m->hoplimit, CMSG_DATA(c), sizeof(int));
    }
  }
}

static bool same_addr(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b) {
  return memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0 && a->sin6_scope_id == b->sin6_scope_id;
}

// Hands one received batch to JavaScript:
//   onPackets(count, data, info, sources, destinations, drops, times)
// data: one Buffer with the delivered datagrams back to back; info: Uint32Array of
// [offset, length, ifindex, hopLimit] per datagram; sources/destinations: address text;
// drops: undefined or a flat array [cause, source, mhType, ...] (cause: 1 oversized,
// 2 wrong destination, 3 type filtered; mhType -1 when unknown); times: Float64Array of each
// datagram's kernel receive time (SO_TIMESTAMPNS, ms since 1970, 0 if none).
static void deliver(mh_socket *s, unsigned n) {
  napi_env env = s->env;
  rx_meta metas[n];
  int16_t keep[n]; // cause per slot; 0 = deliver
  size_t total = 0;
  unsigned count = 0, ndrops = 0;
  s->st.rx_batches++;
  for (unsigned i = 0; i < n; i++) {
    struct mmsghdr *mm = &s->rx.msgs[i];
    unsigned len = mm->msg_len;
    read_cmsgs(&mm->msg_hdr, &metas[i]);
    s->st.rx_packets++;
    s->st.rx_bytes += len;
    int cause = 0;
    const uint8_t *p = p6_rx_batch_data(&s->rx, i);
    if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
      cause = DROP_OVERSIZED;
      s->st.oversized++;
    } else if (s->naccept > 0 && metas[i].have_dst && !accepted(s, &metas[i].dst)) {
      cause = DROP_WRONG_DESTINATION;
      s->st.wrong_destination++;
    } else if (len >= 3 && !type_allowed(s, p[2])) {
      cause = DROP_TYPE_FILTERED;
      s->st.type_filtered++;
    }
    keep[i] = (int16_t)cause;
    if (cause == 0) {
      total += len;
      count++;
    } else {
      ndrops++;
    }
  }
  s->st.delivered += count;
  if (count == 0 && ndrops == 0) return;

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[7], undef;
  napi_get_undefined(env, &undef);
  if (napi_get_reference_value(env, s->on_packets, &cb) != napi_ok || napi_get_reference_value(env, s->self, &recv) != napi_ok) goto out;

  uint8_t *data = NULL;
  void *infov = NULL, *timesv = NULL;
  napi_value ab, tab;
  if (napi_create_buffer(env, total, (void **)&data, &argv[1]) != napi_ok) goto out;
  if (napi_create_arraybuffer(env, (size_t)count * 16, &infov, &ab) != napi_ok) goto out;
  if (napi_create_typedarray(env, napi_uint32_array, (size_t)count * 4, ab, 0, &argv[2]) != napi_ok) goto out;
  if (napi_create_array_with_length(env, count, &argv[3]) != napi_ok) goto out;
  if (napi_create_array_with_length(env, count, &argv[4]) != napi_ok) goto out;
  if (napi_create_arraybuffer(env, (size_t)count * sizeof(double), &timesv, &tab) != napi_ok) goto out;
  if (napi_create_typedarray(env, napi_float64_array, count, tab, 0, &argv[6]) != napi_ok) goto out;
  argv[5] = undef;
  if (ndrops > 0 && napi_create_array(env, &argv[5]) != napi_ok) goto out;

  uint32_t *info = infov;
  double *times = timesv;
  size_t off = 0;
  unsigned k = 0, d = 0;
  napi_value last_src = NULL, last_dst = NULL;
  const struct sockaddr_in6 *last_src_addr = NULL;
  struct in6_addr last_dst_addr;
  uint32_t last_dst_if = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct sockaddr_in6 *from = &s->rx.names[i];
    napi_value src;
    if (last_src != NULL && same_addr(from, last_src_addr)) {
      src = last_src;
    } else {
      src = p6_in6_string(env, &from->sin6_addr, from->sin6_scope_id);
      if (src == NULL) goto out;
      last_src = src;
      last_src_addr = from;
    }
    const uint8_t *p = p6_rx_batch_data(&s->rx, i);
    if (keep[i] != 0) {
      if (d < MAX_DROP_RECORDS) {
        napi_value c, t;
        napi_create_int32(env, keep[i], &c);
        napi_create_int32(env, s->rx.msgs[i].msg_len >= 3 ? p[2] : -1, &t);
        napi_set_element(env, argv[5], d * 3, c);
        napi_set_element(env, argv[5], d * 3 + 1, src);
        napi_set_element(env, argv[5], d * 3 + 2, t);
        d++;
      }
      continue;
    }
    const rx_meta *m = &metas[i];
    const struct in6_addr *da = m->have_dst ? &m->dst : &s->bound.sin6_addr;
    uint32_t dscope = IN6_IS_ADDR_LINKLOCAL(da) ? m->ifindex : 0;
    napi_value dst;
    if (last_dst != NULL && dscope == last_dst_if && memcmp(da, &last_dst_addr, sizeof *da) == 0) {
      dst = last_dst;
    } else {
      dst = p6_in6_string(env, da, dscope);
      if (dst == NULL) goto out;
      last_dst = dst;
      last_dst_addr = *da;
      last_dst_if = dscope;
    }
    unsigned len = s->rx.msgs[i].msg_len;
    memcpy(data + off, p, len);
    info[k * 4] = (uint32_t)off;
    info[k * 4 + 1] = len;
    info[k * 4 + 2] = m->ifindex;
    info[k * 4 + 3] = m->hoplimit < 0 ? 0 : (uint32_t)m->hoplimit;
    times[k] = p6_rx_batch_time_ms(&s->rx, i);
    napi_set_element(env, argv[3], k, src);
    napi_set_element(env, argv[4], k, dst);
    off += len;
    k++;
  }
  napi_create_uint32(env, count, &argv[0]);
  napi_value result;
  napi_status st = napi_make_callback(env, s->actx, recv, cb, 7, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      // Like an exception thrown by an event handler: surfaces as 'uncaughtException'.
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
out:
  napi_close_handle_scope(env, scope);
}

void p6_mh_on_poll(uv_poll_t *h, int status, int events) {
  mh_socket *s = h->data;
  if (!s->open) return;
  if (status < 0) {
    s->st.rx_errors++;
    s->st.last_rx_error = -status;
    return;
  }
  if (!(events & UV_READABLE)) return;
  s->in_callback++;
  // A bounded number of batches per wake-up: the loop's other work runs in between; the
  // poll is level-triggered, so whatever is left wakes us again on the next iteration.
  for (unsigned b = 0; b < s->drain_batches && s->open; b++) {
    int n = p6_rx_batch_recv(&s->rx, s->fd);
    if (n < 0) {
      // EAGAIN also after the kernel discards a datagram whose checksum is wrong (sk_drops).
      if (n != -EAGAIN && n != -EWOULDBLOCK) {
        s->st.rx_errors++;
        s->st.last_rx_error = -n;
      }
      break;
    }
    if (n == 0) break;
    deliver(s, (unsigned)n);
    if ((unsigned)n < s->rx.cap) break;
  }
  s->in_callback--;
  if (s->free_pending && s->in_callback == 0) p6_mh_free(s);
}

