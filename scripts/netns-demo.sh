#!/usr/bin/env bash
# The PMIPv6 namespace demo (issue 13): an unmodified mobile node (MN) keeps its address
# while its link moves from MAG1 to MAG2. Five network namespaces joined by veth pairs:
#
#   MN ── MAG1 ──┐
#     (moves)    LMA ── CN        2001:db8:dd::/48 documentation addresses only
#   ·· ── MAG2 ──┘
#
# The suite's own processes run inside them: the LMA (`pmip6 start`, embedded store) and
# two MAGs (`pmip6 mag`), each with the user-space forwarder (TUN + raw sockets) and the
# access-link attach detector. The MN is configured with nothing but its link-layer address:
# MAG1 detects it from its first packets (MLD report, DAD NS, RS), registers it, and its
# per-MN Router Advertisement gives it its home network prefix (SLAAC, RFC 4862; the fixed
# MAG link-local and link-layer address of RFC 6543). It pings the CN, its link moves to
# MAG2 (which detects it, registers it with the LMA and advertises the same prefix), and the
# ping goes on with the same address. Everything is removed at the end, also on Ctrl-C or
# failure. Needs root, iproute2, ping, curl and a built tree (npm ci).
# NETNS_DEMO_TAG names the namespaces (default pdemo<pid>); NETNS_DEMO_PING_S how long the
# ping across the move runs (default 8 s).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "netns-demo: run as root (it creates network namespaces)" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$ROOT/dist/cli.js" ]; then PMIP6=(node "$ROOT/bin/pmip6.js"); else PMIP6=(node --import tsx "$ROOT/src/cli.ts"); fi
TAG="${NETNS_DEMO_TAG:-pdemo$$}"
NS_MN=$TAG-mn NS_M1=$TAG-mag1 NS_M2=$TAG-mag2 NS_L=$TAG-lma NS_CN=$TAG-cn
TMP=$(mktemp -d /tmp/pmip6-demo-XXXXXX)
PIDS=()
TOKEN=demo-token
LMAA=2001:db8:dd::1 MAG1=2001:db8:dd:1::2 MAG2=2001:db8:dd:2::2 CN=2001:db8:dd:c::2
HNP=2001:db8:dd:f001::/64 MNID=mn1@demo.example MN_MAC=02:00:5e:dd:00:05
# RFC 4291 §2.5.1 / RFC 4862 §5.5.3: the MN's SLAAC address is the HNP with the EUI-64 of MN_MAC.
MN=2001:db8:dd:f001:0:5eff:fedd:5
# RFC 6543: the link-local address every MAG uses (from 00:00:5e:00:52:13).
MAG_LL=fe80::200:5eff:fe00:5213
PING_S=${NETNS_DEMO_PING_S:-8}

cleanup() {
  set +e
  # Each PID is the subshell of an `inns ... &`; the program it runs (ip netns exec and env
  # exec it) is that subshell's child, and a signal to the subshell alone would orphan it.
  local kids=() p
  for p in "${PIDS[@]}"; do kids+=($(pgrep -P "$p")); done
  for p in "${kids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${kids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for n in $NS_MN $NS_M1 $NS_M2 $NS_L $NS_CN; do ip netns del "$n" 2>/dev/null; done
  [ -n "${NETNS_DEMO_KEEP_LOGS:-}" ] && cp "$TMP"/*.log "$NETNS_DEMO_KEEP_LOGS"/ 2>/dev/null
  rm -rf "$TMP" 2>/dev/null || { sleep 1; rm -rf "$TMP"; }
  echo "== cleaned up: namespaces, processes and $TMP removed"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
api() { # api NS PORT METHOD PATH [JSON]
  inns "$1" curl -sS -X "$3" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ${5:+-d "$5"} "http://127.0.0.1:$2$4"; echo
}
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local until=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || { echo "netns-demo: timed out waiting for $what" >&2; tail -n 20 "$TMP"/*.log >&2; exit 1; }
    sleep 0.2
  done
}

say "namespaces and links"
for n in $NS_MN $NS_M1 $NS_M2 $NS_L $NS_CN; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n $NS_L link add l1 type veth peer name up0 netns $NS_M1
ip -n $NS_L link add l2 type veth peer name up0 netns $NS_M2
ip -n $NS_L link add lc type veth peer name eth0 netns $NS_CN
# The MN's access link: its MAG end (acc0) starts at MAG1, still down; the MN end gets only its MAC.
ip -n $NS_MN link add eth0 type veth peer name acc0 netns $NS_M1
ip -n $NS_MN link set eth0 address $MN_MAC
for x in "$NS_L l1" "$NS_L l2" "$NS_L lc" "$NS_M1 up0" "$NS_M2 up0" "$NS_CN eth0"; do set -- $x; ip -n "$1" link set "$2" up; done
a() { ip -n "$1" -6 addr add "$2" dev "$3" nodad; }
a $NS_L $LMAA/128 lo; a $NS_L 2001:db8:dd:1::1/64 l1; a $NS_L 2001:db8:dd:2::1/64 l2; a $NS_L 2001:db8:dd:c::1/64 lc
a $NS_M1 $MAG1/64 up0; a $NS_M2 $MAG2/64 up0; a $NS_CN $CN/64 eth0
ip -n $NS_M1 -6 route add $LMAA/128 via 2001:db8:dd:1::1
ip -n $NS_M2 -6 route add $LMAA/128 via 2001:db8:dd:2::1
ip -n $NS_CN -6 route add default via 2001:db8:dd:c::1
mn_addr() { ip -n $NS_MN -6 addr show dev eth0 scope global -tentative | grep -q "inet6 $MN/64"; }

say "LMA (pmip6 start in $NS_L)"
inns $NS_L env PMIP6_DATA_DIR="$TMP/lma" PMIP6_API_HOST=127.0.0.1 PMIP6_API_PORT=8080 PMIP6_API_TOKEN=$TOKEN \
  PMIP6_LMA_ADDRESS=$LMAA PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW=10000 PMIP6_RADIUS_ENABLED=false PMIP6_SNMP_ENABLED=false PMIP6_LOG_LEVEL=info \
  PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING=true PMIP6_DATAPLANE_KIND=userspace "${PMIP6[@]}" start > "$TMP/lma.log" 2>&1 &
PIDS+=($!)
wait_for 180 "the LMA" inns $NS_L curl -sf http://127.0.0.1:8080/readyz
grep -h 'data plane' "$TMP/lma.log" | head -1 || true
api $NS_L 8080 POST /api/v1/mags '{"id":"mag1","proxyCoa":["'$MAG1'"],"authorized":true}'
api $NS_L 8080 POST /api/v1/mags '{"id":"mag2","proxyCoa":["'$MAG2'"],"authorized":true}'
api $NS_L 8080 POST /api/v1/profiles '{"mnId":"'$MNID'","hnps":["'$HNP'"]}'

for m in 1 2; do
  ns=$TAG-mag$m; coa=$([ $m = 1 ] && echo $MAG1 || echo $MAG2)
  say "MAG$m (pmip6 mag in $ns)"
  inns "$ns" env PMIP6_DATA_DIR="$TMP/mag$m" PMIP6_API_HOST=127.0.0.1 PMIP6_API_PORT=8081 PMIP6_API_TOKEN=$TOKEN \
    PMIP6_SNMP_ENABLED=false PMIP6_LOG_LEVEL=info PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING=true \
    PMIP6_DATAPLANE_KIND=userspace PMIP6_MAG_HEARTBEAT_INTERVAL=0 \
    PMIP6_MAG_ACCESS_DETECTOR=access-link PMIP6_MAG_ACCESS_INTERFACES='acc*' PMIP6_MAG_ACCESS_MNS="$MN_MAC=$MNID" \
    PMIP6_MAG_ACCESS_RA_MAX_INTERVAL=10 PMIP6_MAG_ACCESS_HOLD_DOWN=100 PMIP6_MAG_ACCESS_RA_DELAY=50 \
    "${PMIP6[@]}" mag --id mag$m --proxy-coa $coa --lma $LMAA > "$TMP/mag$m.log" 2>&1 &
  PIDS+=($!)
  wait_for 60 "MAG$m" grep -q "access-link detector running" "$TMP/mag$m.log"
  grep -h 'data plane: user-space' "$TMP/mag$m.log" | head -1 || true
done

say "the MN's link comes up at MAG1: MAG1 detects it, registers it, and its Router Advertisement gives it the HNP"
ip -n $NS_M1 link set acc0 up
ip -n $NS_MN link set eth0 up
wait_for 30 "the MN's SLAAC address $MN" mn_addr
ip -n $NS_MN -6 addr show dev eth0 scope global
ip -n $NS_MN -6 route show default
wait_for 30 "the first ping through MAG1" inns $NS_MN ping -6 -c1 -W1 $CN
inns $NS_MN ping -6 -c 3 -i 0.2 $CN
inns $NS_MN ping -6 -D -i 0.05 -w "$PING_S" $CN > "$TMP/ping.log" 2>&1 &
PING=$!
PIDS+=($PING)
sleep 1

say "the MN's link moves to MAG2 (the MAG end of its veth goes to $NS_M2); MAG2 detects it, MAG1 sees its link go"
ip -n $NS_M1 link set acc0 netns $NS_M2
ip -n $NS_M2 link set acc0 up
wait_for 30 "a ping through MAG2" inns $NS_MN ping -6 -c1 -W1 $CN
wait $PING 2>/dev/null || true
tail -n 3 "$TMP/ping.log"   # the summary of pings every 50 ms across the move: what the move cost
# The longest time between two answers (ping -D stamps each with the time it arrived).
awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (p && t - p > g) g = t - p; p = t } END { printf "longest gap between two answers across the move: %d ms\n", g }' "$TMP/ping.log"
say "the MN kept its address and its default router ($MAG_LL)"
mn_addr && echo "MN address $MN kept"
ip -n $NS_MN -6 route show default
say "the LMA's binding now points at MAG2 ($MAG2), with the same prefix"
api $NS_L 8080 GET '/api/v1/bindings?limit=10'
say "the forwarder's tables"
ip -n $NS_L -6 route show table 5213
ip -n $NS_M2 -6 rule show | grep 5214 || true
ip -n $NS_M2 -6 route show table 5214
