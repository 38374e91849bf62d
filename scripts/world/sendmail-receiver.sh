#!/usr/bin/env bash
# A Sendmail daemon as a receiving server that refuses, beside the recipient world, as
# scripts/world/exim-receiver.sh is for Exim: Debian's Sendmail 8.17 (sendmail-bin and
# sendmail-cf, unpacked with dpkg -x as scripts/world/sendmail-dsns.sh does) runs as a daemon
# under a sendmail.cf of its own (m4, no message of the script's own) in
# /var/cache/herald/sendmail-receiver, and listens on 127.0.0.1:12560 for sendmx.test:
#   - an address it has no user for (local delivery, no such Unix user): "User unknown"
#   - any other domain, for a client other than the local host: "Relaying denied" (with "IP
#     name lookup failed" for a client with no reverse name, as 127.0.0.9 is here)
#   - an 8 KB MaxMessageSize
# The world's Postfix routes sendmx.test to it, and smrelay.test to it from 127.0.0.9
# (scripts/world/start.sh); dsns.sh and replies.sh start it. It runs in its own UTS
# namespace under a fully qualified host name and its own mount namespace, where a dnsmasq of
# the script's own (127.0.0.79:53: NXDOMAIN for everything) is bound over /etc/resolv.conf, so
# its lookups of clients and domains answer at once.
#   usage: scripts/world/sendmail-receiver.sh start|stop    (the world must be up for start)
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
PKG=${SENDMAIL_ROOT:-/var/cache/herald/sendmail-root}
# Sendmail will not open a map under a world-writable directory such as /tmp.
SR=/var/cache/herald/sendmail-receiver
PORT=12560
stop() {
  stop_pidfiles 'sendmail|dnsmasq' "$SR/sendmail.pid" "$SR/dnsmasq.pid"
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb sendmail-receiver.sh "${1:-}"
sendmail_unpacked "$PKG"
CF="$PKG/usr/share/sendmail/cf"
stop
paths=$(sendmail_dir "$SR")
printf 'sendmx.test\n' > "$SR/local-host-names"
q="'" # m4's closing quote
cat > "$SR/receiver.mc" <<MC
divert(-1)
divert(0)dnl
include(\`$CF/m4/cf.m4$q)dnl
VERSIONID(\`herald recipient world: a refusing receiver$q)dnl
OSTYPE(\`linux$q)dnl
define(\`confDOMAIN_NAME$q, \`mx.sendmx.test$q)dnl
define(\`confDONT_PROBE_INTERFACES$q, \`True$q)dnl
$paths
define(\`confCW_FILE$q, \`$SR/local-host-names$q)dnl
define(\`confMAX_MESSAGE_SIZE$q, \`8192$q)dnl
define(\`confTO_IDENT$q, \`0$q)dnl
DAEMON_OPTIONS(\`Port=$PORT, Addr=127.0.0.1, Name=MTA$q)dnl
FEATURE(\`use_cw_file$q)dnl
FEATURE(\`nocanonify$q)dnl
FEATURE(\`accept_unresolvable_domains$q)dnl
MAILER(\`local$q)dnl
MAILER(\`smtp$q)dnl
MC
m4 "$SR/receiver.mc" > "$SR/sendmail.cf"
dnsmasq --port=53 --listen-address=127.0.0.79 --bind-interfaces --no-resolv --no-hosts \
  --local=/test/ --local=/in-addr.arpa/ --address=/#/ \
  --pid-file="$SR/dnsmasq.pid" --log-facility="$SR/dnsmasq.log"
printf 'nameserver 127.0.0.79\n' > "$SR/resolv.conf"
unshare --uts --mount --propagation private sh -c '
  mount --bind "$1/resolv.conf" /etc/resolv.conf && hostname mx.sendmx.test &&
  exec "$2/usr/libexec/sendmail/sendmail" -C "$1/sendmail.cf" -bd -q1h' _ "$SR" "$PKG" \
  </dev/null >"$SR/stdout.log" 2>&1
if ! wait_for_port "$PORT" "$SR/stdout.log"; then
  stop
  exit 1
fi
