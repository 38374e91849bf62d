#!/usr/bin/env bash
# Collect real chasquid bounces for the classifier's check set, as scripts/world/exim-dsns.sh
# does for Exim: Debian's chasquid 1.11 (a Go MTA; unpacked with dpkg -x: its package and
# Postfix's exclude each other) runs in the foreground under a configuration of its own in
# $HERALD_WORLD/chasquid, takes one message per cause from an authenticated user on its
# submission port (127.0.0.1:12661; chasquid relays for nobody else) and delivers it to the
# recipient world (its Postfix MX and the next hops that refuse), which refuses it for a cause
# set up on purpose. chasquid writes its own delivery status notification to the sender,
# dsn@chq.world.test, a user of its own domain, and hands it to its mail delivery agent: here a
# script that files it in $HERALD_WORLD/chasquid/box, which this script reads. The cause is
# known by construction: it is the label.
#   usage: scripts/world/chasquid-dsns.sh OUT_DIR    (the world must be up)
# chasquid looks up each domain's MX and connects on one port (its -testing__outgoing_smtp_port
# flag; it has no per-domain route): a dnsmasq of the script's own (127.0.0.80:53, bound over
# /etc/resolv.conf in chasquid's mount namespace) gives each test domain an address of its own
# in 127.0.0.0/8, and socat forwards that address's port to the world's service for the cause.
set -euo pipefail
out=${1:?usage: chasquid-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${CHASQUID_ROOT:-/var/cache/herald/chasquid-root}
chasquid_unpacked "$PKG"
command -v socat >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q socat >/dev/null
SMTP_PORT=12660
SUBMISSION_PORT=12661
OUT_PORT=12662
C="$W/chasquid"
# What an earlier run left (its pid files are about to go with its directory).
stop_pidfiles 'chasquid|dnsmasq|socat' "$C/chasquid.pid" "$C/dnsmasq.pid" "$C"/socat-*.pid
chasquid_config "$C" chq.world.test "$SMTP_PORT" "$SUBMISSION_PORT"
"$PKG/usr/bin/chasquid-util" -C="$C/conf" user-add dsn@chq.world.test --password=dsnpass >/dev/null
# Each domain's address, and the world's service socat forwards it to. inbox.test's is the
# world's MX with an 8 KB size limit (it serves inbox.test as the MX does; it relays for
# no one, so a message for toobig.test would be refused as a relay, and chasquid cannot route
# one recipient apart from its domain).
hops() {
  printf '%s\n' "inbox 31 ${WORLD_TOOBIG_PORT:-12530}" "blocked 33 ${WORLD_BLOCKED_PORT:-12531}" \
    "norelay 34 ${WORLD_NORELAY_PORT:-12532}"
  local n=35 name port
  while read -r name port; do
    printf '%s %s %s\n' "$name" "$n" "$port"
    n=$((n + 1))
  done < <(refuser_hops)
}
# The resolver: the hops' names, NXDOMAIN for every other .test name.
dns=(--port=53 --listen-address=127.0.0.80 --bind-interfaces --no-resolv --no-hosts
  --local=/test/ --pid-file="$C/dnsmasq.pid"
  --log-facility="$C/dnsmasq.log")
while read -r name n _; do
  dns+=("--mx-host=$name.test,mx.$name.test,10" "--address=/mx.$name.test/127.0.0.$n")
done < <(hops)
stop() {
  stop_pidfiles 'chasquid|dnsmasq|socat' "$C/chasquid.pid" "$C/dnsmasq.pid" "$C"/socat-*.pid
  "$(dirname "$0")/refusers.sh" stop
}
# Set before anything starts, so a failure half-way stops what did start.
trap stop EXIT
dnsmasq "${dns[@]}"
printf 'nameserver 127.0.0.80\n' > "$C/resolv.conf"
while read -r _ n port; do
  socat "TCP-LISTEN:$OUT_PORT,bind=127.0.0.$n,reuseaddr,fork" "TCP:127.0.0.1:$port" &
  echo $! > "$C/socat-$n.pid"
done < <(hops)
# moved.test: the second Postfix instance's relocated user; refuse.test: its refusal of the
# sender; listed.test: its blocklist; spf.test, spam.test, dmarc.test, nodomain.test: its SPF
# policy, rspamd milter, OpenDMARC milter and a next hop that cannot resolve the recipient's
# domain (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
  "$PKG/usr/bin/chasquid" "$C/resolv.conf" -config_dir "$C/conf" \
  -testing__outgoing_smtp_port "$OUT_PORT" -alsologtostderr > "$C/log" 2>&1 &
echo $! > "$C/chasquid.pid"
wait_for_port "$SUBMISSION_PORT" "$C/log"
cases=()
world_cases rcpt-unknown client-rejected relay-denied two-recipients user-moved sender-rejected \
  rbl-listed spf-fail spam-reject-me dmarc-reject rcpt-domain-unknown
cases+=("size-limit|alice@inbox.test|mesgtoobig|soft|big")
# (No host-unknown, null-MX or retry-timeout case: chasquid 1.11 takes an unknown domain, a
# null MX and an unreachable server alike for a transient failure and retries for a day.)
submit_smtp dsn@chq.world.test "${cases[@]}" -- --server "127.0.0.1:$SUBMISSION_PORT" --tls \
  --auth PLAIN --auth-user dsn@chq.world.test --auth-password dsnpass
wait_for_reports "$C/box" 120
collect chasquid "$C/box" "$out" "${cases[@]}"
