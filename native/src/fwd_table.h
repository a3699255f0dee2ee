// The user-space forwarder's lookup tables (no I/O, no N-API): tunnels by slot, routes by
// prefix (longest match over the prefix lengths in use), tunnels by what a received packet
// carries (outer source, encapsulation, GRE key), and known peers. Fixed capacities chosen
// at creation: hostile or runaway programming fails with ENOSPC instead of growing.
// Routing contexts: every tunnel belongs to one context (a TUN device of its own at the
// LMA, like a VRF), and a route is keyed by (context, prefix): the same private IPv4 home
// address in two contexts is two routes to two tunnels (RFC 5845 §1: GRE keys let an LMA
// serve overlapping private IPv4 addresses). Context 0 is the default.
#ifndef PMIP6_NATIVE_FWD_TABLE_H
#define PMIP6_NATIVE_FWD_TABLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

// FWD_ENCAP_UDP: IPv4-UDP (RFC 5844 §4.1: the inner packet in UDP, port 5437 both ways).
enum fwd_encap { FWD_ENCAP_IP6 = 1, FWD_ENCAP_GRE = 2, FWD_ENCAP_UDP = 3 };

typedef struct {
  bool used;
  uint8_t encap;            // enum fwd_encap
  uint16_t ctx;             // routing context (0 = default); its routes are looked up in it only
  bool has_key_in, has_key_out;
  uint32_t key_in, key_out; // RFC 5845: key_in expected on receive, key_out sent
  struct in6_addr local, remote;
  // per-tunnel counters, updated by the forwarding threads with relaxed atomics
  uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
} fwd_tunnel;

// One open-addressing hash of 24-octet keys to 32-bit values (linear probing, backward-shift delete).
typedef struct {
  uint8_t key[24];
  uint32_t value;
  uint32_t used;
} fwd_hent;

typedef struct {
  fwd_hent *e;
  uint32_t mask;
  uint32_t count;
  uint32_t limit; // most entries allowed (capacity / 2)
} fwd_hash;

typedef struct {
  fwd_tunnel *tunnels;
  uint32_t max_tunnels;
  fwd_hash routes;   // (family, plen, context, masked address) -> tunnel slot
  fwd_hash by_rx;    // (remote, encap, key or none) -> tunnel slot
  fwd_hash peers;    // remote -> number of tunnels to it
  uint32_t plen_count[2][129]; // routes per (family index 0 = IPv6, 1 = IPv4, prefix length)
  uint8_t plens[2][130];       // prefix lengths in use, longest first
  uint8_t nplens[2];
} fwd_table;

int fwd_table_init(fwd_table *t, uint32_t max_tunnels, uint32_t max_routes);
void fwd_table_free(fwd_table *t);
// Adds a tunnel; *slot receives its index. EEXIST when another tunnel already receives the
// same (remote, encap, key); ENOSPC when full.
int fwd_tunnel_add(fwd_table *t, const fwd_tunnel *spec, uint32_t *slot);
// Removes a tunnel and every route over it. ENOENT when unknown.
int fwd_tunnel_remove(fwd_table *t, uint32_t slot);
// family 6 or 4; addr is 16 octets (IPv4: first 4). The route lives in the tunnel's context.
// Replaces an existing route for the same prefix in that context.
int fwd_route_add(fwd_table *t, int family, const uint8_t *addr, unsigned plen, uint32_t slot);
// Removes the route only when it points at `slot`: 0 removed, ENOENT absent, ESRCH other tunnel.
int fwd_route_remove(fwd_table *t, int family, const uint8_t *addr, unsigned plen, uint32_t slot);
// Longest-prefix match within context `ctx`: the tunnel slot, or UINT32_MAX.
uint32_t fwd_route_lookup(const fwd_table *t, uint16_t ctx, int family, const uint8_t *addr);
// The tunnel that receives (remote, encap, key); UINT32_MAX when none.
uint32_t fwd_rx_lookup(const fwd_table *t, const struct in6_addr *remote, uint8_t encap, bool has_key, uint32_t key);
bool fwd_peer_known(const fwd_table *t, const struct in6_addr *remote);
uint32_t fwd_route_count(const fwd_table *t);

#endif
