#!/usr/bin/env bash
# Sendmail daemons as receiving servers that refuse, beside the recipient world, as
# scripts/world/exim-receiver.sh is for Exim: Debian's Sendmail 8.17 (sendmail-bin and
# sendmail-cf, unpacked with dpkg -x as scripts/world/sendmail-dsns.sh does), each daemon under a
# sendmail.cf of its own (m4, no message of the script's own) in
# /var/cache/herald/sendmail-receiver/<name>:
#   127.0.0.1:12560  sendmx.test:
#     - an address it has no user for (local delivery, no such Unix user): "User unknown"
#     - any other domain, for a client other than the local host: "Relaying denied" (with "IP
#       name lookup failed" for a client with no reverse name, as 127.0.0.9 is here)
#     - an 8 KB MaxMessageSize
#     It resolves through a dnsmasq of the script's own (127.0.0.79:53: NXDOMAIN for
#     everything), so its lookups of clients and domains answer at once.
#   127.0.0.1:12561  smlisted.test: FEATURE(dnsbl) with the zone bl.test, where 127.0.0.1 is
#                    listed: "Rejected: 127.0.0.1 listed at bl.test"
#   127.0.0.1:12562  smsender.test: Sendmail's stock check of the sender's domain (no
#                    accept_unresolvable_domains), which does not exist: "Domain of sender
#                    address … does not exist"
#   The last two resolve through the second Postfix instance's name server
#   (scripts/world/refusers.sh, which must be started first).
# The world's Postfix routes sendmx.test to :12560, smrelay.test to it from 127.0.0.9,
# smlisted.test to :12561 and smsender.test to :12562 (scripts/world/start.sh); dsns.sh and
# replies.sh start them. Each runs in its own UTS namespace under a fully qualified host name
# and its own mount namespace, with its name server bound over /etc/resolv.conf; none listens
# on the submission port (no_default_msa: loopback only, and one daemon's would block the next).
#   usage: scripts/world/sendmail-receiver.sh start|stop    (the world and refusers.sh up, for
#   start)
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
PKG=${SENDMAIL_ROOT:-/var/cache/herald/sendmail-root}
# Sendmail will not open a map under a world-writable directory such as /tmp.
SR=/var/cache/herald/sendmail-receiver
stop() {
  local name
  # (And $SR/sendmail.pid: the one daemon of this script's earlier layout.)
  for name in mx listed sender; do
    stop_pidfiles 'sendmail|dnsmasq' "$SR/$name/sendmail.pid"
  done
  stop_pidfiles 'sendmail|dnsmasq' "$SR/sendmail.pid" "$SR/dnsmasq.pid"
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb sendmail-receiver.sh "${1:-}"
needs_refusers sendmail-receiver.sh
sendmail_unpacked "$PKG"
CF="$PKG/usr/share/sendmail/cf"
stop
mkdir -p "$SR"
chmod 755 "$SR"
dnsmasq --port=53 --listen-address=127.0.0.79 --bind-interfaces --no-resolv --no-hosts \
  --local=/test/ --local=/in-addr.arpa/ --address=/#/ \
  --pid-file="$SR/dnsmasq.pid" --log-facility="$SR/dnsmasq.log"
printf 'nameserver 127.0.0.79\n' > "$SR/resolv.conf"
q="'" # m4's closing quote
# daemon NAME DOMAIN PORT RESOLV_CONF MC_LINES: a Sendmail for DOMAIN on PORT, resolving
# through RESOLV_CONF, its mc holding MC_LINES besides the common ones.
daemon() {
  local name=$1 domain=$2 port=$3 resolv=$4 extra=$5 d=$SR/$1 paths
  paths=$(sendmail_dir "$d")
  printf '%s\n' "$domain" > "$d/local-host-names"
  cat > "$d/receiver.mc" <<MC
divert(-1)
divert(0)dnl
include(\`$CF/m4/cf.m4$q)dnl
VERSIONID(\`herald recipient world: a refusing receiver$q)dnl
OSTYPE(\`linux$q)dnl
define(\`confDOMAIN_NAME$q, \`mx.$domain$q)dnl
define(\`confDONT_PROBE_INTERFACES$q, \`True$q)dnl
$paths
define(\`confCW_FILE$q, \`$d/local-host-names$q)dnl
define(\`confTO_IDENT$q, \`0$q)dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA$q)dnl
FEATURE(\`no_default_msa$q)dnl
FEATURE(\`use_cw_file$q)dnl
FEATURE(\`nocanonify$q)dnl
$extra
MAILER(\`local$q)dnl
MAILER(\`smtp$q)dnl
MC
  if ! m4 "$d/receiver.mc" > "$d/sendmail.cf" ||
    ! unshare --uts --mount --propagation private sh -c '
      mount --bind "$3" /etc/resolv.conf && hostname "mx.$4" &&
      exec "$2/usr/libexec/sendmail/sendmail" -C "$1/sendmail.cf" -bd -q1h' _ "$d" "$PKG" \
      "$resolv" "$domain" </dev/null >"$d/stdout.log" 2>&1 ||
    ! wait_for_port "$port" "$d/stdout.log"; then
    cat "$d/stdout.log" >&2 2>/dev/null || true
    stop
    exit 1
  fi
}
daemon mx sendmx.test 12560 "$SR/resolv.conf" "define(\`confMAX_MESSAGE_SIZE$q, \`8192$q)dnl
FEATURE(\`accept_unresolvable_domains$q)dnl"
daemon listed smlisted.test 12561 "$W/refusers/resolv.conf" \
  "FEATURE(\`accept_unresolvable_domains$q)dnl
FEATURE(\`dnsbl$q, \`bl.test$q)dnl"
daemon sender smsender.test 12562 "$W/refusers/resolv.conf" ""
