#!/usr/bin/env bash
# Haraka as a receiving server that refuses, beside the recipient world: its refusals are worded
# by Haraka 3.3.4 (from the npm registry, as scripts/world/haraka-dsns.sh installs it) and its
# stock plugins, no message of the script's own. Five Haraka daemons, each with a configuration
# of its own under $HERALD_WORLD/haraka-receiver/<name>:
#   127.0.0.1:12570  harakamx.test (rcpt_to.in_host_list): any other domain is refused as a relay
#                    (Haraka's "I cannot deliver mail for …"); an 8 KB size limit (connection.ini
#                    [max] bytes), refused at MAIL FROM when the client announces a larger SIZE
#   127.0.0.1:12571  the dns-list plugin with the zone bl.test, where 127.0.0.1 is listed
#   127.0.0.1:12572  the fcrdns plugin rejecting a client with no reverse name (the world's
#                    relays reach it from 127.0.0.9, which has none)
#   127.0.0.1:12573  the mail_from.is_resolvable plugin (its default: refuse a sender's domain
#                    with no MX): inbox.test and sender.test have none there
#   127.0.0.1:12574  the spf plugin refusing a sender that fails SPF ([deny] mfrom_fail):
#                    inbox.test publishes "v=spf1 -all" there
# They resolve through the second Postfix instance's name server (scripts/world/refusers.sh,
# which must be started first: 127.0.0.78 lists 127.0.0.1 on bl.test and has no reverse names),
# bound over /etc/resolv.conf in their mount namespace. Haraka's DNS plugins skip a private or
# loopback client, and the world is all loopback: one plugin of the script's own, run first,
# marks the client as public so that the stock checks run.
# The world's Postfix routes harakamx.test and harakarelay.test to :12570, harakablock.test to
# :12571, harakanoptr.test (from 127.0.0.9) to :12572, harakafrom.test to :12573 and
# harakaspf.test to :12574 (scripts/world/start.sh).
#   usage: scripts/world/haraka-receiver.sh start|stop    (refusers.sh started, for start)
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
H=$W/haraka-receiver
PKG=${HARAKA_ROOT:-/var/cache/herald/haraka}
NAMES=(mx block noptr from spf)
stop() {
  local name
  for name in "${NAMES[@]}"; do stop_pidfiles haraka "$H/$name.pid"; done
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb haraka-receiver.sh "${1:-}"
needs_refusers haraka-receiver.sh
haraka_installed "$PKG"
stop
rm -rf "$H"
mkdir -p "$H"
# instance NAME PORT PLUGIN…: Haraka's own skeleton, then this instance's settings.
instance() {
  local name=$1 port=$2 dir=$H/$1
  shift 2
  "$PKG/node_modules/.bin/haraka" -i "$dir" >/dev/null
  # One process (nodes=0: no cluster of forked workers), so its pid is the daemon's.
  printf 'listen=127.0.0.1:%s\nnodes=0\n' "$port" > "$dir/config/smtp.ini"
  printf 'mx.haraka-%s.test\n' "$name" > "$dir/config/me"
  printf 'level=info\n' > "$dir/config/log.ini"
  printf '%s\n' world_public "$@" > "$dir/config/plugins"
  cat > "$dir/plugins/world_public.js" <<'JS'
// The world is loopback: Haraka's DNS plugins skip such a client. Mark it as public.
exports.register = function () {
  this.register_hook('connect_init', 'mark_public')
}
exports.mark_public = function (next, connection) {
  connection.remote.is_private = false
  next()
}
JS
}
instance mx 12570 rcpt_to.in_host_list
printf 'harakamx.test\n' > "$H/mx/config/host_list"
# (Haraka reads connection.ini whole, not over its defaults: its own file, one line changed.)
sed 's/^bytes=.*/bytes=8192/' "$PKG/node_modules/Haraka/config/connection.ini" > "$H/mx/config/connection.ini"
grep -qx 'bytes=8192' "$H/mx/config/connection.ini"
instance block 12571 dns-list
printf '[main]\nperiodic_checks=0\nsearch=first\nzones=bl.test\n[bl.test]\n' > "$H/block/config/dns-list.ini"
instance noptr 12572 fcrdns
printf '[reject]\nno_rdns=true\n' > "$H/noptr/config/fcrdns.ini"
instance from 12573 mail_from.is_resolvable
instance spf 12574 spf
printf '[deny]\nmfrom_fail=true\n' > "$H/spf/config/spf.ini"
for name in "${NAMES[@]}"; do
  unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
    "$PKG/node_modules/.bin/haraka" "$W/refusers/resolv.conf" -c "$H/$name" > "$H/$name.log" 2>&1 &
  echo $! > "$H/$name.pid"
done
wait_for_port 12570 "$H/mx.log"
wait_for_port 12571 "$H/block.log"
wait_for_port 12572 "$H/noptr.log"
wait_for_port 12573 "$H/from.log"
wait_for_port 12574 "$H/spf.log"
