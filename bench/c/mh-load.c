/*
 * Load generator and echo responder for `npm run bench -- lma`, built by the bench with the
 * system C compiler so that neither the generator nor the baseline is a Node process.
 *
 *   mh-load gen <templates> <dst-ip> <dst-port> <bind-ip> <from> <n> <count> <window>
 *     Sends Proxy Binding Updates over IPv4/UDP (RFC 5844 §4) keeping <window> outstanding,
 *     cycling MN indexes [from, from + n) of the template file, until <count> answers came
 *     back. Each PBU gets a fresh Timestamp option (RFC 5213 §8.8: 48-bit seconds since 1970,
 *     16-bit fraction) and as Sequence Number (RFC 6275 §6.1.7, offset 6) its window slot plus
 *     window times the slot's transmission count (mod 65536 / window): an answer is matched by
 *     the Sequence Number of the PBA (offset 8, RFC 6275 §6.1.8) or of the echoed PBU (offset
 *     6) to the slot's current MN, from any of its transmissions. Lost PBUs are sent again
 *     after 1 s; the answer to a transmission whose MN was already answered (the original and
 *     its retransmission both got through, e.g. after a stall of the LMA) is counted as stale
 *     and dropped, not taken for the next MN of the slot. Prints one JSON line: completed, ms,
 *     retransmits, stale, p50/p99/max latency (ms, from the first transmission), and how many
 *     PBAs had a non-zero status.
 *   mh-load echo <bind-ip>
 *     Answers every datagram with itself (recvmmsg / sendmmsg batches); prints the bound
 *     port, then runs until killed.
 *
 * Template file: u32 count, u32 record size, then per MN a record of u16 length, u16
 * timestamp offset and the PBU's bytes (little-endian header fields).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXPKT 2048

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int udp_socket(const char *bind_ip, int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) { perror("socket"); exit(1); }
  int sz = 16 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  if (inet_pton(AF_INET, bind_ip, &a.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", bind_ip); exit(1); }
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); exit(1); }
  return s;
}

static int run_echo(const char *bind_ip) {
  int s = udp_socket(bind_ip, 0);
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &al);
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  static char bufs[BATCH][MAXPKT];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = MAXPKT;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(s, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("recvmmsg");
      return 1;
    }
    for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
    int off = 0;
    while (off < n) {
      int k = sendmmsg(s, msgs + off, n - off, 0);
      if (k <= 0) break;
      off += k;
    }
  }
}

struct tpl {
  uint32_t count, recsize;
  unsigned char *data;
};

static struct tpl load_templates(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  struct tpl t;
  if (fread(&t.count, 4, 1, f) != 1 || fread(&t.recsize, 4, 1, f) != 1) { fprintf(stderr, "short template file\n"); exit(1); }
  size_t len = (size_t)t.count * t.recsize;
  t.data = malloc(len);
  if (!t.data || fread(t.data, 1, len, f) != len) { fprintf(stderr, "short template file\n"); exit(1); }
  fclose(f);
  return t;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* RFC 5213 §8.8 Timestamp: 48-bit seconds since 1970 and a 16-bit fraction of a second. */
static uint64_t timestamp_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return ((uint64_t)t.tv_sec << 16) | (uint64_t)(((uint64_t)t.tv_nsec << 16) / 1000000000ull);
}

static void put_be64(unsigned char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = v & 0xff;
}

static struct tpl t;
static int s;
static long window;
static double *sent_at, *first_at;
static long *slot_mn;
static long gens; /* transmission counts a Sequence Number can tell apart per slot: 65536 / window */
static long *slot_gen, *slot_first_gen, *slot_tx; /* per slot: next transmission (mod gens), the current MN's first, its count */
static uint64_t *last_ts;
static unsigned char out[BATCH][MAXPKT];
static unsigned char in[BATCH][MAXPKT];
static struct mmsghdr om[BATCH], im[BATCH];
static struct iovec oiov[BATCH], iiov[BATCH];
static int queued = 0;

static void flush(void) {
  int off = 0;
  while (off < queued) {
    int k = sendmmsg(s, om + off, queued - off, 0);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNREFUSED) continue; /* an ICMP error from an earlier send */
      if (errno == EAGAIN || errno == ENOBUFS) { usleep(50); continue; }
      perror("sendmmsg");
      exit(1);
    }
    off += k;
  }
  queued = 0;
}
static void send_pbu(long slot, long mn, int first) {
  if (queued == BATCH) flush();
  const unsigned char *rec = t.data + (size_t)mn * t.recsize;
  uint16_t len, tsoff;
  memcpy(&len, rec, 2);
  memcpy(&tsoff, rec + 2, 2);
  unsigned char *b = out[queued];
  memcpy(b, rec + 4, len);
  uint64_t ts = timestamp_now();
  if (ts <= last_ts[mn]) ts = last_ts[mn] + 1; /* per MN strictly increasing (RFC 5213 §5.5) */
  last_ts[mn] = ts;
  put_be64(b + tsoff, ts);
  long seq = slot + window * slot_gen[slot];
  if (first) {
    slot_first_gen[slot] = slot_gen[slot];
    slot_tx[slot] = 0;
  }
  slot_tx[slot]++;
  slot_gen[slot] = (slot_gen[slot] + 1) % gens;
  b[6] = seq >> 8;
  b[7] = seq & 0xff;
  double now = now_ms();
  sent_at[slot] = now;
  if (first) first_at[slot] = now;
  slot_mn[slot] = mn;
  oiov[queued].iov_base = b;
  oiov[queued].iov_len = len;
  memset(&om[queued].msg_hdr, 0, sizeof om[queued].msg_hdr);
  om[queued].msg_hdr.msg_iov = &oiov[queued];
  om[queued].msg_hdr.msg_iovlen = 1;
  queued++;
}


int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "echo") == 0) return run_echo(argv[2]);
  if (argc != 10 || strcmp(argv[1], "gen") != 0) {
    fprintf(stderr, "usage: mh-load gen <templates> <dst-ip> <dst-port> <bind-ip> <from> <n> <count> <window> | echo <bind-ip>\n");
    return 2;
  }
  t = load_templates(argv[2]);
  long from = atol(argv[6]), n = atol(argv[7]), count = atol(argv[8]);
  window = atol(argv[9]);
  if (window < 1) window = 1;
  if (window > 65535) window = 65535;
  if (from < 0 || n < 1 || from + n > (long)t.count) { fprintf(stderr, "MN range outside the templates\n"); return 2; }
  s = udp_socket(argv[5], 0);
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[4])) };
  inet_pton(AF_INET, argv[3], &dst.sin_addr);
  if (connect(s, (struct sockaddr *)&dst, sizeof dst) < 0) { perror("connect"); return 1; }

  sent_at = calloc(window, sizeof(double));
  first_at = calloc(window, sizeof(double));
  slot_mn = malloc(window * sizeof(long));
  gens = 65536 / window;
  slot_gen = calloc(window, sizeof(long));
  slot_first_gen = calloc(window, sizeof(long));
  slot_tx = calloc(window, sizeof(long));
  last_ts = calloc(t.count, sizeof(uint64_t));
  double *lat = malloc(count * sizeof(double));
  for (long i = 0; i < window; i++) slot_mn[i] = -1;
  long next = 0, completed = 0, retransmits = 0, rejected = 0, stale = 0;
  long by_status[256] = { 0 }, rej_first = -1, rej_last = -1; /* which non-zero statuses, and when (completion index) */

  double start = now_ms();
  for (long sl = 0; sl < window && next < count; sl++) send_pbu(sl, from + (next++ % n), 1);
  flush();
  double last_scan = start;
  while (completed < count) {
    struct pollfd p = { .fd = s, .events = POLLIN };
    int r = poll(&p, 1, 100);
    if (r > 0) {
      for (int i = 0; i < BATCH; i++) {
        iiov[i].iov_base = in[i];
        iiov[i].iov_len = MAXPKT;
        memset(&im[i].msg_hdr, 0, sizeof im[i].msg_hdr);
        im[i].msg_hdr.msg_iov = &iiov[i];
        im[i].msg_hdr.msg_iovlen = 1;
      }
      int k = recvmmsg(s, im, BATCH, MSG_DONTWAIT, NULL);
      double now = now_ms();
      for (int i = 0; i < k; i++) {
        const unsigned char *d = in[i];
        if (im[i].msg_len < 12) continue;
        long seq = d[2] == 6 ? (d[8] << 8 | d[9]) : (d[6] << 8 | d[7]);
        long slot = seq % window, gen = seq / window;
        if (gen >= gens || slot_mn[slot] < 0) continue;
        /* A transmission of the slot's current MN: one of its slot_tx from the first on (mod gens;
           with more than gens of them, as with a window over 32768, any answer is taken). */
        if (slot_tx[slot] < gens && (gen - slot_first_gen[slot] + gens) % gens >= slot_tx[slot]) {
          stale++;
          continue;
        }
        if (d[2] == 6 && d[6] != 0) {
          rejected++;
          by_status[d[6]]++;
          if (rej_first < 0) rej_first = completed;
          rej_last = completed;
        }
        slot_mn[slot] = -1;
        lat[completed++] = now - first_at[slot];
        if (completed >= count) break;
        if (next < count) send_pbu(slot, from + (next++ % n), 1);
      }
      flush();
    }
    double now = now_ms();
    if (now - last_scan >= 100) {
      last_scan = now;
      for (long sl = 0; sl < window; sl++) {
        if (slot_mn[sl] >= 0 && now - sent_at[sl] > 1000) {
          retransmits++;
          send_pbu(sl, slot_mn[sl], 0);
        }
      }
      flush();
    }
  }
  double ms = now_ms() - start;
  qsort(lat, completed, sizeof(double), cmp_double);
  printf("{\"completed\":%ld,\"ms\":%.3f,\"retransmits\":%ld,\"stale\":%ld,\"rejected\":%ld,\"rejFirst\":%ld,\"rejLast\":%ld,\"statuses\":{", completed, ms, retransmits,
         stale, rejected, rej_first, rej_last);
  for (int st = 0, first = 1; st < 256; st++)
    if (by_status[st]) {
      printf("%s\"%d\":%ld", first ? "" : ",", st, by_status[st]);
      first = 0;
    }
  printf("},\"p50\":%.4f,\"p99\":%.4f,\"max\":%.4f}\n", lat[(long)(completed * 0.50)], lat[(long)(completed * 0.99)], lat[completed - 1]);
  return 0;
}
