// The user-space forwarder's lookup tables (see fwd_table.h). Callers serialise writers
// and readers (tun_fwd.c holds a read-write lock around every use).
#include "fwd_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t pow2_at_least(uint32_t n) {
  uint32_t c = 16;
  while (c < n && c < (1u << 30)) c <<= 1;
  return c;
}

static int hash_init(fwd_hash *h, uint32_t max_entries) {
  uint32_t cap = pow2_at_least(max_entries * 2);
  h->e = calloc(cap, sizeof *h->e);
  if (h->e == NULL) return ENOMEM;
  h->mask = cap - 1;
  h->count = 0;
  h->limit = max_entries;
  return 0;
}

// FNV-1a over the 24 octets, then a final mix (keys differ mostly in a few octets).
static uint32_t hash_key(const uint8_t *k) {
  uint32_t x = 2166136261u;
  for (int i = 0; i < 24; i++) x = (x ^ k[i]) * 16777619u;
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  return x;
}

static fwd_hent *hash_find(const fwd_hash *h, const uint8_t *k) {
  uint32_t i = hash_key(k) & h->mask;
  for (;;) {
    fwd_hent *e = &h->e[i];
    if (!e->used) return NULL;
    if (memcmp(e->key, k, 24) == 0) return e;
    i = (i + 1) & h->mask;
  }
}

// Inserts or replaces. ENOSPC when a new key would exceed the limit.
static int hash_put(fwd_hash *h, const uint8_t *k, uint32_t v) {
  uint32_t i = hash_key(k) & h->mask;
  for (;;) {
    fwd_hent *e = &h->e[i];
    if (!e->used) {
      if (h->count >= h->limit) return ENOSPC;
      memcpy(e->key, k, 24);
      e->value = v;
      e->used = 1;
      h->count++;
      return 0;
    }
    if (memcmp(e->key, k, 24) == 0) {
      e->value = v;
      return 0;
    }
    i = (i + 1) & h->mask;
  }
}

// Backward-shift deletion keeps every probe chain unbroken without tombstones.
static void hash_del(fwd_hash *h, fwd_hent *e) {
  uint32_t i = (uint32_t)(e - h->e);
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & h->mask;
    if (!h->e[j].used) break;
    uint32_t home = hash_key(h->e[j].key) & h->mask;
    // move e[j] into the hole at i unless its home lies cyclically in (i, j]
    bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      h->e[i] = h->e[j];
      i = j;
    }
  }
  h->e[i].used = 0;
  h->count--;
}

int fwd_table_init(fwd_table *t, uint32_t max_tunnels, uint32_t max_routes) {
  memset(t, 0, sizeof *t);
  t->tunnels = calloc(max_tunnels, sizeof *t->tunnels);
  if (t->tunnels == NULL) return ENOMEM;
  t->max_tunnels = max_tunnels;
  int err = hash_init(&t->routes, max_routes);
  if (!err) err = hash_init(&t->by_rx, max_tunnels);
  if (!err) err = hash_init(&t->peers, max_tunnels);
  if (err) fwd_table_free(t);
  return err;
}

void fwd_table_free(fwd_table *t) {
  free(t->tunnels);
  free(t->routes.e);
  free(t->by_rx.e);
  free(t->peers.e);
  memset(t, 0, sizeof *t);
}

static void rx_key(uint8_t *k, const struct in6_addr *remote, uint8_t encap, bool has_key, uint32_t key) {
  memset(k, 0, 24);
  memcpy(k, remote, 16);
  k[16] = encap;
  k[17] = has_key ? 1 : 0;
  memcpy(k + 18, &key, 4);
}

static void peer_key(uint8_t *k, const struct in6_addr *remote) {
  memset(k, 0, 24);
  memcpy(k, remote, 16);
}

int fwd_tunnel_add(fwd_table *t, const fwd_tunnel *spec, uint32_t *slot) {
  uint8_t k[24];
  rx_key(k, &spec->remote, spec->encap, spec->has_key_in, spec->has_key_in ? spec->key_in : 0);
  if (hash_find(&t->by_rx, k) != NULL) return EEXIST;
  uint32_t s = 0;
  while (s < t->max_tunnels && t->tunnels[s].used) s++;
  if (s == t->max_tunnels) return ENOSPC;
  int err = hash_put(&t->by_rx, k, s);
  if (err) return err;
  uint8_t pk[24];
  peer_key(pk, &spec->remote);
  fwd_hent *p = hash_find(&t->peers, pk);
  if (p) p->value++;
  else if ((err = hash_put(&t->peers, pk, 1)) != 0) {
    hash_del(&t->by_rx, hash_find(&t->by_rx, k));
    return err;
  }
  t->tunnels[s] = *spec;
  t->tunnels[s].used = true;
  t->tunnels[s].tx_packets = t->tunnels[s].tx_bytes = t->tunnels[s].rx_packets = t->tunnels[s].rx_bytes = 0;
  *slot = s;
  return 0;
}

static void plen_changed(fwd_table *t, int fi) {
  uint8_t n = 0;
  for (int l = 128; l >= 0; l--)
    if (t->plen_count[fi][l] > 0) t->plens[fi][n++] = (uint8_t)l;
  t->nplens[fi] = n;
}

static int fidx(int family) { return family == 4 ? 1 : 0; }

static void route_key(uint8_t *k, uint16_t ctx, int family, const uint8_t *addr, unsigned plen) {
  memset(k, 0, 24);
  k[0] = (uint8_t)family;
  k[1] = (uint8_t)plen;
  k[2] = (uint8_t)(ctx >> 8);
  k[3] = (uint8_t)ctx;
  unsigned full = plen / 8, rest = plen % 8;
  memcpy(k + 4, addr, full);
  if (rest) k[4 + full] = addr[full] & (uint8_t)(0xff << (8 - rest));
}

int fwd_tunnel_remove(fwd_table *t, uint32_t slot) {
  if (slot >= t->max_tunnels || !t->tunnels[slot].used) return ENOENT;
  fwd_tunnel *tu = &t->tunnels[slot];
  // drop every route over it (a scan: removal is rare, lookups are not)
  for (uint32_t i = 0; i <= t->routes.mask;) {
    fwd_hent *e = &t->routes.e[i];
    if (e->used && e->value == slot) {
      t->plen_count[fidx(e->key[0])][e->key[1]]--;
      hash_del(&t->routes, e); // the slot now holds a shifted entry: look at it again
      continue;
    }
    i++;
  }
  plen_changed(t, 0);
  plen_changed(t, 1);
  uint8_t k[24];
  rx_key(k, &tu->remote, tu->encap, tu->has_key_in, tu->has_key_in ? tu->key_in : 0);
  fwd_hent *e = hash_find(&t->by_rx, k);
  if (e) hash_del(&t->by_rx, e);
  peer_key(k, &tu->remote);
  e = hash_find(&t->peers, k);
  if (e && --e->value == 0) hash_del(&t->peers, e);
  tu->used = false;
  return 0;
}

int fwd_route_add(fwd_table *t, int family, const uint8_t *addr, unsigned plen, uint32_t slot) {
  if (slot >= t->max_tunnels || !t->tunnels[slot].used) return ENOENT;
  if ((family != 4 && family != 6) || plen > (family == 4 ? 32u : 128u)) return EINVAL;
  uint8_t k[24];
  route_key(k, t->tunnels[slot].ctx, family, addr, plen);
  fwd_hent *e = hash_find(&t->routes, k);
  if (e) {
    e->value = slot;
    return 0;
  }
  int err = hash_put(&t->routes, k, slot);
  if (err) return err;
  if (t->plen_count[fidx(family)][plen]++ == 0) plen_changed(t, fidx(family));
  return 0;
}

int fwd_route_remove(fwd_table *t, int family, const uint8_t *addr, unsigned plen, uint32_t slot) {
  if ((family != 4 && family != 6) || plen > (family == 4 ? 32u : 128u)) return EINVAL;
  if (slot >= t->max_tunnels || !t->tunnels[slot].used) return ENOENT; // its routes went with it
  uint8_t k[24];
  route_key(k, t->tunnels[slot].ctx, family, addr, plen);
  fwd_hent *e = hash_find(&t->routes, k);
  if (e == NULL) return ENOENT;
  if (e->value != slot) return ESRCH;
  hash_del(&t->routes, e);
  if (--t->plen_count[fidx(family)][plen] == 0) plen_changed(t, fidx(family));
  return 0;
}

uint32_t fwd_route_lookup(const fwd_table *t, uint16_t ctx, int family, const uint8_t *addr) {
  int fi = fidx(family);
  uint8_t k[24];
  for (unsigned i = 0; i < t->nplens[fi]; i++) {
    route_key(k, ctx, family, addr, t->plens[fi][i]);
    const fwd_hent *e = hash_find(&t->routes, k);
    if (e) return e->value;
  }
  return UINT32_MAX;
}

uint32_t fwd_rx_lookup(const fwd_table *t, const struct in6_addr *remote, uint8_t encap, bool has_key, uint32_t key) {
  uint8_t k[24];
  rx_key(k, remote, encap, has_key, has_key ? key : 0);
  const fwd_hent *e = hash_find(&t->by_rx, k);
  return e ? e->value : UINT32_MAX;
}

bool fwd_peer_known(const fwd_table *t, const struct in6_addr *remote) {
  uint8_t k[24];
  peer_key(k, remote);
  return hash_find(&t->peers, k) != NULL;
}

uint32_t fwd_route_count(const fwd_table *t) { return t->routes.count; }
