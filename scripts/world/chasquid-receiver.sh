#!/usr/bin/env bash
# chasquid as a receiving server that refuses, beside the recipient world, as
# scripts/world/haraka-receiver.sh is for Haraka: its refusals are worded by chasquid 1.11
# (Debian's package, unpacked as scripts/world/chasquid-dsns.sh does), no message of the
# script's own. Two daemons, each configured under $HERALD_WORLD/chasquid-receiver/<name>:
#   127.0.0.1:12590  chqmx.test, whose one user is alice: an address it has no user for
#                    ("Destination address is unknown (user does not exist)"); any other domain,
#                    from an unauthenticated client ("Relay not allowed"). It resolves through
#                    a dnsmasq of the script's own (127.0.0.81:53: NXDOMAIN for every name), so
#                    its SPF check of the sender finds no policy.
#   127.0.0.1:12592  chqspf.test: its SPF check of the sender, resolving through the second
#                    Postfix instance's name server (scripts/world/refusers.sh, which must be
#                    started first), where inbox.test publishes "v=spf1 -all"
# Each name server is bound over /etc/resolv.conf in the daemon's mount namespace. The world's
# Postfix routes chqmx.test and chqrelay.test to :12590 and chqspf.test to :12592
# (scripts/world/start.sh).
#   usage: scripts/world/chasquid-receiver.sh start|stop    (refusers.sh started, for start)
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
C=$W/chasquid-receiver
PKG=${CHASQUID_ROOT:-/var/cache/herald/chasquid-root}
stop() {
  stop_pidfiles chasquid "$C/mx.pid" "$C/spf.pid"
  stop_pidfiles dnsmasq "$C/dnsmasq.pid"
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb chasquid-receiver.sh "${1:-}"
needs_refusers chasquid-receiver.sh
chasquid_unpacked "$PKG"
stop
rm -rf "$C"
mkdir -p "$C"
dnsmasq --port=53 --listen-address=127.0.0.81 --bind-interfaces --no-resolv --no-hosts \
  --address=/#/ --pid-file="$C/dnsmasq.pid" --log-facility="$C/dnsmasq.log"
printf 'nameserver 127.0.0.81\n' > "$C/resolv.conf"
# instance NAME DOMAIN PORT RESOLV_CONF: one daemon for DOMAIN on PORT (submission on PORT+1).
instance() {
  local name=$1 domain=$2 port=$3 resolv=$4
  chasquid_config "$C/$name" "$domain" "$port" $((port + 1))
  "$PKG/usr/bin/chasquid-util" -C="$C/$name/conf" user-add "alice@$domain" --password=alicepass >/dev/null
  unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
    "$PKG/usr/bin/chasquid" "$resolv" -config_dir "$C/$name/conf" -alsologtostderr \
    > "$C/$name.log" 2>&1 &
  echo $! > "$C/$name.pid"
  if ! wait_for_port "$port" "$C/$name.log"; then
    stop
    exit 1
  fi
}
instance mx chqmx.test 12590 "$C/resolv.conf"
instance spf chqspf.test 12592 "$W/refusers/resolv.conf"
