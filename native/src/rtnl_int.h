// RouteNetlink internals shared by rtnl.c (requests) and rtnl_dump.c (dumps).
#ifndef PMIP6_NATIVE_RTNL_INT_H
#define PMIP6_NATIVE_RTNL_INT_H

#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/types.h>

#define RN_BUF 32768
#define RN_MAX_DUMP 65536 // entries returned by one dump: bounds memory on a huge table

typedef struct {
  int fd;
  uint32_t seq;
  uint32_t pid;
  uint8_t *buf;
} rtnl_sock;

typedef struct {
  struct nlmsghdr n;
  union {
    struct rtmsg r;
    struct fib_rule_hdr f;
  } u;
  uint8_t attrs[256];
} rn_req;

// One datagram from the kernel into s->buf: its length, or -1 with errno set. Datagrams from
// another socket (nl_pid != 0: a process with CAP_NET_ADMIN could aim forged acks at us) are
// dropped; an answer counts only when the kernel sent it.
ssize_t rn_recv_kernel(rtnl_sock *s);

// dump(family, table) for RTM_GETROUTE / RTM_GETRULE: an array of the entries whose table is `table` (0 = all).
napi_value p6_rtnl_dump(napi_env env, rtnl_sock *s, size_t argc, napi_value *argv, uint16_t type);

#endif
