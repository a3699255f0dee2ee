// What tun_fwd.c (the TunForwarder N-API object) shares with the files split from it:
// fwd_stats.c (stats() and tunnelStats() objects) and tun_probe.c (probeTun()).
#ifndef PMIP6_NATIVE_TUN_FWD_INT_H
#define PMIP6_NATIVE_TUN_FWD_INT_H

#include <node_api.h>
#include <stdint.h>

#include "fwd_int.h"

// stats() -> { name, ifindex, tx: {packets, bytes, batches}, rx: {...}, drops: {cause: n}, tunnels, routes, contexts }
napi_value fwd_stats_object(napi_env env, fwd *f);
// tunnelStats(slot) -> { txPackets, txBytes, rxPackets, rxBytes } or null for a free slot
napi_value fwd_tunnel_stats_object(napi_env env, fwd *f, uint32_t slot);
// probeTun() -> { ok: true } | { ok: false, code, message, what }
napi_value fwd_probe_tun(napi_env env, napi_callback_info info);

#endif
