// Batched datagram reception with recvmmsg(2): one set of buffers, address and control
// slots per socket, reused for every batch. Used by the raw Mobility Header socket
// (mh_socket.c); meant for every batched receiver of the addon (UDP, other raw protocols).
#ifndef PMIP6_NATIVE_RX_BATCH_H
#define PMIP6_NATIVE_RX_BATCH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

typedef struct p6_rx_batch {
  unsigned cap;           // datagrams per recvmmsg call
  size_t buf_size;        // octets per datagram slot (larger datagrams come back with MSG_TRUNC)
  size_t ctrl_size;       // octets of ancillary data per slot
  uint8_t *bufs;          // cap * buf_size
  uint8_t *ctrl;          // cap * ctrl_size
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_in6 *names;
} p6_rx_batch;

// Allocates the slots. Returns 0 or ENOMEM.
int p6_rx_batch_init(p6_rx_batch *b, unsigned cap, size_t buf_size, size_t ctrl_size);
// One non-blocking recvmmsg: number of datagrams (>= 1), or -errno (-EAGAIN when empty).
int p6_rx_batch_recv(p6_rx_batch *b, int fd);
// Slot i's payload.
static inline uint8_t *p6_rx_batch_data(const p6_rx_batch *b, unsigned i) { return b->bufs + (size_t)i * b->buf_size; }
void p6_rx_batch_free(p6_rx_batch *b);
// Asks the kernel to stamp every received datagram with its receive time (SO_TIMESTAMPNS,
// socket(7)). Returns 0 or an errno; the socket works without it (times come back 0).
int p6_rx_enable_timestamps(int fd);
// Ancillary octets one slot needs for that stamp.
#define P6_RX_TS_CTRL CMSG_SPACE(sizeof(struct timespec))
// Slot i's kernel receive time in ms since 1970 (CLOCK_REALTIME, fractional), 0 when absent.
double p6_rx_batch_time_ms(const p6_rx_batch *b, unsigned i);

#endif
