// TunForwarder's counters as JavaScript objects (tun_fwd.c's stats() and tunnelStats()):
// totals per direction, drops by cause, table occupancy, per-context and per-tunnel counters.
#include <node_api.h>
#include <pthread.h>

#include "common.h"
#include "fwd_int.h"
#include "tun_fwd_int.h"

static const char *const DROP_NAMES[FWD_DROP_COUNT] = {"noBinding", "badKey", "unknownPeer", "malformed", "tunWrite", "send", "multicast"};

void fwd_set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value x;
  if (napi_create_double(env, v, &x) == napi_ok) napi_set_named_property(env, o, k, x);
}

// stats() -> { name, ifindex, tx: {packets, bytes, batches}, rx: {...}, drops: {cause: n}, tunnels, routes }
napi_value fwd_stats_object(napi_env env, fwd *f) {
  napi_value o, tx, rx, drops, v;
  P6_CALL(env, napi_create_object(env, &o));
  P6_CALL(env, napi_create_object(env, &tx));
  P6_CALL(env, napi_create_object(env, &rx));
  P6_CALL(env, napi_create_object(env, &drops));
  fwd_set_num(env, tx, "packets", (double)__atomic_load_n(&f->tx.packets, __ATOMIC_RELAXED));
  fwd_set_num(env, tx, "bytes", (double)__atomic_load_n(&f->tx.bytes, __ATOMIC_RELAXED));
  fwd_set_num(env, tx, "batches", (double)__atomic_load_n(&f->tx.batches, __ATOMIC_RELAXED));
  fwd_set_num(env, rx, "packets", (double)__atomic_load_n(&f->rx.packets, __ATOMIC_RELAXED));
  fwd_set_num(env, rx, "bytes", (double)__atomic_load_n(&f->rx.bytes, __ATOMIC_RELAXED));
  fwd_set_num(env, rx, "batches", (double)__atomic_load_n(&f->rx.batches, __ATOMIC_RELAXED));
  for (int i = 0; i < FWD_DROP_COUNT; i++) {
    napi_value d;
    P6_CALL(env, napi_create_object(env, &d));
    fwd_set_num(env, d, "tx", (double)__atomic_load_n(&f->tx.drops[i], __ATOMIC_RELAXED));
    fwd_set_num(env, d, "rx", (double)__atomic_load_n(&f->rx.drops[i], __ATOMIC_RELAXED));
    napi_set_named_property(env, drops, DROP_NAMES[i], d);
  }
  napi_set_named_property(env, o, "tx", tx);
  napi_set_named_property(env, o, "rx", rx);
  napi_set_named_property(env, o, "drops", drops);
  pthread_rwlock_rdlock(&f->lock);
  uint32_t tunnels = 0;
  for (uint32_t i = 0; i < f->table.max_tunnels; i++) tunnels += f->table.tunnels[i].used;
  uint32_t routes = fwd_route_count(&f->table);
  pthread_rwlock_unlock(&f->lock);
  fwd_set_num(env, o, "tunnels", tunnels);
  fwd_set_num(env, o, "routes", routes);
  fwd_set_num(env, o, "ifindex", f->ifindex);
  napi_set_named_property(env, o, "contexts", fwd_contexts_stats(env, f));
  P6_CALL(env, napi_create_string_utf8(env, f->name, NAPI_AUTO_LENGTH, &v));
  napi_set_named_property(env, o, "name", v);
  return o;
}

// tunnelStats(slot) -> { txPackets, txBytes, rxPackets, rxBytes } or null
napi_value fwd_tunnel_stats_object(napi_env env, fwd *f, uint32_t slot) {
  napi_value o;
  pthread_rwlock_rdlock(&f->lock);
  fwd_tunnel c = slot < f->table.max_tunnels ? f->table.tunnels[slot] : (fwd_tunnel){0};
  pthread_rwlock_unlock(&f->lock);
  if (!c.used) {
    napi_get_null(env, &o);
    return o;
  }
  P6_CALL(env, napi_create_object(env, &o));
  fwd_set_num(env, o, "txPackets", (double)c.tx_packets);
  fwd_set_num(env, o, "txBytes", (double)c.tx_bytes);
  fwd_set_num(env, o, "rxPackets", (double)c.rx_packets);
  fwd_set_num(env, o, "rxBytes", (double)c.rx_bytes);
  return o;
}
