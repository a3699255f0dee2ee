// RouteNetlink dumps (see rtnl.c): RTM_GETROUTE / RTM_GETRULE with NLM_F_DUMP, each entry a
// JS object, filtered here to one table (the kernel's dump holds every table).
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "rtnl_int.h"

static void set_u32(napi_env env, napi_value o, const char *k, uint32_t v) {
  napi_value n;
  if (napi_create_uint32(env, v, &n) == napi_ok) napi_set_named_property(env, o, k, n);
}

static void set_addr(napi_env env, napi_value o, const char *k, int af, const void *a) {
  char t[INET6_ADDRSTRLEN];
  napi_value v;
  if (inet_ntop(af, a, t, sizeof t) && napi_create_string_latin1(env, t, NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, o, k, v);
}

// One entry of a dump as a JS object (or NULL to skip it).
typedef napi_value (*dump_fn)(napi_env env, struct nlmsghdr *h, int af, uint32_t table);

static napi_value route_entry(napi_env env, struct nlmsghdr *h, int af, uint32_t table) {
  struct rtmsg *r = NLMSG_DATA(h);
  if (r->rtm_family != af) return NULL;
  uint32_t t = r->rtm_table, oif = 0, metric = 0;
  const void *dst = NULL;
  int len = (int)RTM_PAYLOAD(h);
  for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= 4) memcpy(&t, RTA_DATA(a), 4);
    else if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4) memcpy(&oif, RTA_DATA(a), 4);
    else if (a->rta_type == RTA_PRIORITY && RTA_PAYLOAD(a) >= 4) memcpy(&metric, RTA_DATA(a), 4);
    else if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) >= (af == AF_INET6 ? 16u : 4u)) dst = RTA_DATA(a);
  }
  if (table != 0 && t != table) return NULL;
  napi_value o;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  if (dst) set_addr(env, o, "dst", af, dst);
  set_u32(env, o, "dstLen", r->rtm_dst_len);
  set_u32(env, o, "table", t);
  set_u32(env, o, "oif", oif);
  set_u32(env, o, "metric", metric);
  set_u32(env, o, "type", r->rtm_type);
  set_u32(env, o, "protocol", r->rtm_protocol);
  return o;
}

static napi_value rule_entry(napi_env env, struct nlmsghdr *h, int af, uint32_t table) {
  struct fib_rule_hdr *f = NLMSG_DATA(h);
  if (f->family != af) return NULL;
  uint32_t t = f->table, prio = 0;
  const void *src = NULL, *dst = NULL;
  int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *f));
  size_t alen = af == AF_INET6 ? 16 : 4;
  for (struct rtattr *a = (struct rtattr *)((uint8_t *)f + NLMSG_ALIGN(sizeof *f)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == FRA_TABLE && RTA_PAYLOAD(a) >= 4) memcpy(&t, RTA_DATA(a), 4);
    else if (a->rta_type == FRA_PRIORITY && RTA_PAYLOAD(a) >= 4) memcpy(&prio, RTA_DATA(a), 4);
    else if (a->rta_type == FRA_SRC && RTA_PAYLOAD(a) >= alen) src = RTA_DATA(a);
    else if (a->rta_type == FRA_DST && RTA_PAYLOAD(a) >= alen) dst = RTA_DATA(a);
  }
  if (table != 0 && t != table) return NULL;
  napi_value o;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  set_u32(env, o, "priority", prio);
  set_u32(env, o, "table", t);
  set_u32(env, o, "action", f->action);
  if (src) set_addr(env, o, "src", af, src);
  set_u32(env, o, "srcLen", f->src_len);
  if (dst) set_addr(env, o, "dst", af, dst);
  set_u32(env, o, "dstLen", f->dst_len);
  return o;
}

// dump(family, table): every route/rule of the family whose table is `table` (0 = all).
napi_value p6_rtnl_dump(napi_env env, rtnl_sock *s, size_t argc, napi_value *argv, uint16_t type) {
  dump_fn fn = type == RTM_GETROUTE ? route_entry : rule_entry;
  uint32_t fam = 0, table = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &fam) != napi_ok || (fam != 4 && fam != 6)) return p6_throw_type(env, "dump(family 4 | 6, table?)");
  if (argc > 1 && napi_get_value_uint32(env, argv[1], &table) != napi_ok) return p6_throw_type(env, "table must be a number");
  int af = fam == 6 ? AF_INET6 : AF_INET;
  if (s->fd < 0) return p6_throw_errno(env, EBADF, "sendto", "rtnetlink socket closed");
  rn_req q;
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  q.n.nlmsg_type = type;
  q.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  q.n.nlmsg_seq = ++s->seq;
  q.u.r.rtm_family = (unsigned char)af; // rtmsg and fib_rule_hdr both start with the family
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(s->fd, &q, q.n.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) return p6_throw_errno(env, errno, "sendto", "rtnetlink dump");
  napi_value arr;
  P6_CALL(env, napi_create_array(env, &arr));
  uint32_t count = 0;
  for (;;) {
    ssize_t n = rn_recv_kernel(s);
    if (n < 0) {
      if (errno == EINTR) continue;
      return p6_throw_errno(env, errno, "recv", "rtnetlink dump");
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != s->seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return arr;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        return p6_throw_errno(env, -e->error, type == RTM_GETROUTE ? "RTM_GETROUTE" : "RTM_GETRULE", "rtnetlink dump");
      }
      if (count >= RN_MAX_DUMP) continue;
      napi_handle_scope scope;
      if (napi_open_handle_scope(env, &scope) != napi_ok) return NULL;
      napi_value o = fn(env, h, af, table);
      if (o != NULL) napi_set_element(env, arr, count++, o);
      napi_close_handle_scope(env, scope);
    }
  }
}

