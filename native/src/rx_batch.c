// Batched datagram reception with recvmmsg(2) (see rx_batch.h).
#include "rx_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int p6_rx_batch_init(p6_rx_batch *b, unsigned cap, size_t buf_size, size_t ctrl_size) {
  memset(b, 0, sizeof *b);
  b->cap = cap;
  b->buf_size = buf_size;
  b->ctrl_size = ctrl_size;
  b->bufs = malloc((size_t)cap * buf_size);
  b->ctrl = calloc(cap, ctrl_size);
  b->msgs = calloc(cap, sizeof *b->msgs);
  b->iov = calloc(cap, sizeof *b->iov);
  b->names = calloc(cap, sizeof *b->names);
  if (!b->bufs || !b->ctrl || !b->msgs || !b->iov || !b->names) {
    p6_rx_batch_free(b);
    return ENOMEM;
  }
  for (unsigned i = 0; i < cap; i++) {
    b->iov[i].iov_base = p6_rx_batch_data(b, i);
    b->iov[i].iov_len = buf_size;
  }
  return 0;
}

int p6_rx_batch_recv(p6_rx_batch *b, int fd) {
  // recvmmsg overwrites the lengths: restore them for every slot.
  for (unsigned i = 0; i < b->cap; i++) {
    struct msghdr *h = &b->msgs[i].msg_hdr;
    h->msg_name = &b->names[i];
    h->msg_namelen = sizeof b->names[i];
    h->msg_iov = &b->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = b->ctrl + (size_t)i * b->ctrl_size;
    h->msg_controllen = b->ctrl_size;
    h->msg_flags = 0;
    b->msgs[i].msg_len = 0;
  }
  for (;;) {
    int n = recvmmsg(fd, b->msgs, b->cap, MSG_DONTWAIT, NULL);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

int p6_rx_enable_timestamps(int fd) {
  int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0 ? 0 : errno;
}

double p6_rx_batch_time_ms(const p6_rx_batch *b, unsigned i) {
  struct msghdr *h = &b->msgs[i].msg_hdr;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS || c->cmsg_len < CMSG_LEN(sizeof(struct timespec))) continue;
    struct timespec ts;
    memcpy(&ts, CMSG_DATA(c), sizeof ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
  }
  return 0;
}

void p6_rx_batch_free(p6_rx_batch *b) {
  free(b->bufs);
  free(b->ctrl);
  free(b->msgs);
  free(b->iov);
  free(b->names);
  b->bufs = b->ctrl = NULL;
  b->msgs = NULL;
  b->iov = NULL;
  b->names = NULL;
  b->cap = 0;
}
