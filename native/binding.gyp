{
  "targets": [
    {
      "target_name": "pmip6_native",
      "sources": ["src/addon.c", "src/common.c", "src/rx_batch.c", "src/mh_socket.c", "src/mh_rx.c", "src/mh_tx.c", "src/link_socket.c", "src/fwd_table.c", "src/fwd_path.c", "src/fwd_ctx.c", "src/fwd_v4.c", "src/tun_fwd.c", "src/fwd_stats.c", "src/tun_probe.c", "src/udp_mmsg.c", "src/rtnl.c", "src/rtnl_dump.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "conditions": [["OS!='linux'", {"sources!": ["src/mh_socket.c", "src/mh_rx.c", "src/mh_tx.c", "src/rx_batch.c", "src/link_socket.c", "src/fwd_table.c", "src/fwd_path.c", "src/fwd_ctx.c", "src/fwd_v4.c", "src/tun_fwd.c", "src/fwd_stats.c", "src/tun_probe.c", "src/udp_mmsg.c", "src/rtnl.c", "src/rtnl_dump.c"]}]]
    }
  ]
}
