// RouteNetlink: routes and policy rules through rtnetlink (NETLINK_ROUTE, rtnetlink(7)),
// for the user-space data plane's steering (src/dataplane/rtnl.ts) instead of one `ip`
// process per change. Each call is one request and its acknowledgement, synchronous: the
// kernel answers a route or rule change in microseconds, far less than a process spawn.
//   route(cmd, {family, dst, dstLen, table, oif})      RTM_NEWROUTE (add: CREATE|EXCL,
//                                                      replace: CREATE|REPLACE) / RTM_DELROUTE
//   rule(cmd, {family, priority, table, src, srcLen, dst, dstLen})   RTM_NEWRULE / RTM_DELRULE
//                                                      with FRA_PRIORITY, FRA_TABLE, FRA_SRC, FRA_DST
//   dumpRoutes(family, table), dumpRules(family)       NLM_F_DUMP, filtered to one table here
// A negative acknowledgement throws an Error with the kernel's errno (code "EEXIST", errno,
// syscall "RTM_NEWRULE") and a message naming the request, plus the kernel's extended ack
// text when it gives one (NETLINK_EXT_ACK).
#include "rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"
#include "rtnl_int.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static void rn_close(rtnl_sock *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

static void rn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  rtnl_sock *s = data;
  rn_close(s);
  free(s->buf);
  free(s);
}

static void add_attr(rn_req *q, uint16_t type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((uint8_t *)q + NLMSG_ALIGN(q->n.nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void add_u32(rn_req *q, uint16_t type, uint32_t v) { add_attr(q, type, &v, sizeof v); }

// The kernel's extended ack text (NLMSGERR_ATTR_MSG), or NULL.
static const char *ext_ack_msg(struct nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return NULL;
  struct nlmsgerr *e = NLMSG_DATA(h);
  size_t off = sizeof *e; // NETLINK_CAP_ACK: the request is not echoed beyond its header
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - sizeof e->msg;
  if (NLMSG_HDRLEN + off > h->nlmsg_len) return NULL;
  struct rtattr *a = (struct rtattr *)((uint8_t *)e + off);
  int len = (int)(h->nlmsg_len - NLMSG_HDRLEN - off);
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == NLMSGERR_ATTR_MSG && RTA_PAYLOAD(a) > 0) {
      char *m = RTA_DATA(a);
      m[RTA_PAYLOAD(a) - 1] = '\0';
      return m;
    }
  }
  return NULL;
}

ssize_t rn_recv_kernel(rtnl_sock *s) {
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s->fd, s->buf, RN_BUF, 0, (struct sockaddr *)&from, &fl);
    if (n < 0 || (fl >= sizeof from && from.nl_pid == 0)) return n;
  }
}

// Sends a request and waits for its acknowledgement. 0, or the kernel's errno (with *msg its text).
static int transact(rtnl_sock *s, rn_req *q, const char **msg) {
  *msg = NULL;
  if (s->fd < 0) return EBADF;
  q->n.nlmsg_seq = ++s->seq;
  q->n.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(s->fd, q, q->n.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) return errno;
  for (;;) {
    ssize_t n = rn_recv_kernel(s);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno; // EAGAIN: no answer within the receive timeout
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != s->seq) continue; // the answer to an earlier request that timed out
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error == 0) return 0;
        *msg = ext_ack_msg(h);
        return -e->error;
      }
    }
  }
}

static rtnl_sock *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  return p6_unwrap_this(env, info, argc, argv, "a RouteNetlink");
}

static napi_value rn_construct(napi_env env, napi_callback_info info) {
  napi_value self;
  P6_CALL(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return p6_throw_errno(env, errno, "socket", "rtnetlink socket");
  struct sockaddr_nl a = {.nl_family = AF_NETLINK};
  socklen_t al = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
    int e = errno;
    close(fd);
    return p6_throw_errno(env, e, "bind", "rtnetlink socket");
  }
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  p6_setsockopt_int(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  p6_setsockopt_int(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  rtnl_sock *s = calloc(1, sizeof *s);
  uint8_t *buf = malloc(RN_BUF);
  if (s == NULL || buf == NULL) {
    free(s);
    free(buf);
    close(fd);
    return p6_throw_errno(env, ENOMEM, "malloc", "rtnetlink socket");
  }
  s->fd = fd;
  s->pid = a.nl_pid;
  s->buf = buf;
  if (napi_wrap(env, self, s, rn_finalize, NULL, NULL) != napi_ok) {
    rn_finalize(env, s, NULL);
    return p6_throw_type(env, "RouteNetlink: wrap failed");
  }
  return self;
}

// Reads {family, <addrKey>, <lenKey>} into addr/len; family 4 or 6. *has = address given.
static bool read_prefix(napi_env env, napi_value o, int af, const char *addrKey, const char *lenKey, uint8_t *addr, uint32_t *len, bool *has) {
  char text[INET6_ADDRSTRLEN + 1];
  if (!p6_opt_string(env, o, addrKey, text, sizeof text, has)) return false;
  *len = 0;
  if (!p6_opt_u32(env, o, lenKey, len)) return false;
  if (!*has) {
    if (*len != 0) {
      p6_throw_type(env, "a prefix length without an address");
      return false;
    }
    return true;
  }
  if (inet_pton(af, text, addr) != 1 || *len > (af == AF_INET6 ? 128u : 32u)) {
    char m[128];
    snprintf(m, sizeof m, "%s %s/%u is not an IPv%d prefix", addrKey, text, *len, af == AF_INET6 ? 6 : 4);
    p6_throw_type(env, m);
    return false;
  }
  return true;
}

static bool read_family(napi_env env, napi_value o, int *af) {
  uint32_t f = 0;
  if (!p6_opt_u32(env, o, "family", &f)) return false;
  if (f != 4 && f != 6) {
    p6_throw_type(env, "family must be 4 or 6");
    return false;
  }
  *af = f == 6 ? AF_INET6 : AF_INET;
  return true;
}

static bool read_cmd(napi_env env, napi_value v, char *cmd) {
  if (!p6_get_string(env, v, cmd, 16, "command")) return false;
  if (strcmp(cmd, "add") && strcmp(cmd, "replace") && strcmp(cmd, "del")) {
    p6_throw_type(env, "command must be add, replace or del");
    return false;
  }
  return true;
}

static napi_value fail(napi_env env, int err, const char *syscall, const char *what, const char *kmsg) {
  char m[320];
  if (kmsg) snprintf(m, sizeof m, "%s (kernel: %s)", what, kmsg);
  else snprintf(m, sizeof m, "%s", what);
  return p6_throw_errno(env, err, syscall, m);
}

// route(cmd, {family, dst, dstLen, table, oif | dev}): a unicast route via a device, no gateway.
static napi_value rn_route(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  rtnl_sock *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  char cmd[16];
  if (argc < 2 || !read_cmd(env, argv[0], cmd)) return argc < 2 ? p6_throw_type(env, "route(command, options)") : NULL;
  int af;
  uint8_t dst[16];
  uint32_t dlen = 0, table = 0, oif = 0;
  bool has_dst, has_dev;
  char dev[IF_NAMESIZE + 1];
  if (!read_family(env, argv[1], &af) || !read_prefix(env, argv[1], af, "dst", "dstLen", dst, &dlen, &has_dst)) return NULL;
  if (!p6_opt_u32(env, argv[1], "table", &table) || !p6_opt_u32(env, argv[1], "oif", &oif)) return NULL;
  if (!p6_opt_string(env, argv[1], "dev", dev, sizeof dev, &has_dev)) return NULL;
  if (table == 0) return p6_throw_type(env, "route: table is required");
  char what[200], t[INET6_ADDRSTRLEN + 4] = "default";
  if (has_dst) {
    inet_ntop(af, dst, t, INET6_ADDRSTRLEN);
    snprintf(t + strlen(t), 5, "/%u", dlen);
  }
  snprintf(what, sizeof what, "route %s %s table %u%s%s", cmd, t, table, has_dev ? " dev " : "", has_dev ? dev : "");
  if (has_dev && oif == 0) {
    oif = if_nametoindex(dev);
    if (oif == 0) return fail(env, ENODEV, "if_nametoindex", what, NULL);
  }
  bool del = strcmp(cmd, "del") == 0;
  if (!del && oif == 0) return p6_throw_type(env, "route: oif or dev is required");
  rn_req q;
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  q.n.nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
  if (!del) q.n.nlmsg_flags = NLM_F_CREATE | (strcmp(cmd, "replace") == 0 ? NLM_F_REPLACE : NLM_F_EXCL);
  q.u.r.rtm_family = (unsigned char)af;
  q.u.r.rtm_dst_len = (unsigned char)dlen;
  q.u.r.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
  if (del) {
    q.u.r.rtm_scope = RT_SCOPE_NOWHERE; // any scope
  } else {
    q.u.r.rtm_protocol = RTPROT_STATIC;
    q.u.r.rtm_scope = af == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE; // on-link: no gateway
    q.u.r.rtm_type = RTN_UNICAST;
  }
  add_u32(&q, RTA_TABLE, table);
  if (has_dst) add_attr(&q, RTA_DST, dst, af == AF_INET6 ? 16 : 4);
  if (oif) add_u32(&q, RTA_OIF, oif);
  const char *kmsg;
  int rc = transact(s, &q, &kmsg);
  if (rc != 0) return fail(env, rc, del ? "RTM_DELROUTE" : "RTM_NEWROUTE", what, kmsg);
  return NULL;
}

// rule(cmd, {family, priority, table, src, srcLen, dst, dstLen}): FR_ACT_TO_TBL rules.
static napi_value rn_rule(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  rtnl_sock *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  char cmd[16];
  if (argc < 2 || !read_cmd(env, argv[0], cmd)) return argc < 2 ? p6_throw_type(env, "rule(command, options)") : NULL;
  int af;
  uint8_t src[16], dst[16];
  uint32_t slen = 0, dlen = 0, table = 0, prio = 0;
  bool has_src, has_dst, has_prio = false;
  if (!read_family(env, argv[1], &af) || !read_prefix(env, argv[1], af, "src", "srcLen", src, &slen, &has_src) ||
      !read_prefix(env, argv[1], af, "dst", "dstLen", dst, &dlen, &has_dst))
    return NULL;
  if (!p6_opt_u32(env, argv[1], "table", &table)) return NULL;
  prio = UINT32_MAX;
  if (!p6_opt_u32(env, argv[1], "priority", &prio)) return NULL;
  has_prio = prio != UINT32_MAX;
  bool del = strcmp(cmd, "del") == 0;
  if (!del && (table == 0 || !has_prio)) return p6_throw_type(env, "rule: table and priority are required");
  char what[240], ts[INET6_ADDRSTRLEN] = "all", td[INET6_ADDRSTRLEN] = "all";
  if (has_src) inet_ntop(af, src, ts, sizeof ts);
  if (has_dst) inet_ntop(af, dst, td, sizeof td);
  snprintf(what, sizeof what, "rule %s pref %u from %s/%u to %s/%u lookup %u", cmd, prio, ts, slen, td, dlen, table);
  rn_req q;
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
  q.n.nlmsg_type = del ? RTM_DELRULE : RTM_NEWRULE;
  if (!del) q.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL; // a duplicate is refused with EEXIST
  q.u.f.family = (unsigned char)af;
  q.u.f.src_len = (unsigned char)slen;
  q.u.f.dst_len = (unsigned char)dlen;
  q.u.f.table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
  q.u.f.action = del && table == 0 ? FR_ACT_UNSPEC : FR_ACT_TO_TBL;
  if (table) add_u32(&q, FRA_TABLE, table);
  if (has_prio) add_u32(&q, FRA_PRIORITY, prio);
  if (has_src) add_attr(&q, FRA_SRC, src, af == AF_INET6 ? 16 : 4);
  if (has_dst) add_attr(&q, FRA_DST, dst, af == AF_INET6 ? 16 : 4);
  const char *kmsg;
  int rc = transact(s, &q, &kmsg);
  if (rc != 0) return fail(env, rc, del ? "RTM_DELRULE" : "RTM_NEWRULE", what, kmsg);
  return NULL;
}

// dumpRoutes(family, table) / dumpRules(family, table): rtnl_dump.c.
static napi_value rn_dump(napi_env env, napi_callback_info info, uint16_t type) {
  size_t argc = 2;
  napi_value argv[2];
  rtnl_sock *s = unwrap(env, info, &argc, argv);
  return s == NULL ? NULL : p6_rtnl_dump(env, s, argc, argv, type);
}
static napi_value rn_dump_routes(napi_env env, napi_callback_info info) { return rn_dump(env, info, RTM_GETROUTE); }
static napi_value rn_dump_rules(napi_env env, napi_callback_info info) { return rn_dump(env, info, RTM_GETRULE); }

static napi_value rn_close_m(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  rtnl_sock *s = unwrap(env, info, &argc, NULL);
  if (s != NULL) rn_close(s);
  return NULL;
}

napi_value p6_rtnl_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"route", NULL, rn_route, NULL, NULL, NULL, napi_default_method, NULL},
      {"rule", NULL, rn_rule, NULL, NULL, NULL, napi_default_method, NULL},
      {"dumpRoutes", NULL, rn_dump_routes, NULL, NULL, NULL, napi_default_method, NULL},
      {"dumpRules", NULL, rn_dump_rules, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, rn_close_m, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  P6_CALL(env, napi_define_class(env, "RouteNetlink", NAPI_AUTO_LENGTH, rn_construct, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  P6_CALL(env, napi_set_named_property(env, exports, "RouteNetlink", cls));
  return exports;
}
