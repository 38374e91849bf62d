#!/usr/bin/env bash
# Collect real Exim DSNs for the classifier's check set, the way scripts/world/dsns.sh does for
# Postfix: Debian's Exim (exim4-daemon-light, unpacked with dpkg -x: its package and Postfix's
# exclude each other) runs under its own configuration in $HERALD_WORLD/exim, takes one message
# per cause from the command line, and delivers it to the recipient world (its Postfix MX, the
# next hops that refuse, Dovecot's LMTP), which refuses it for a cause set up on purpose. Exim
# then writes its own bounce to the sender, dsn@exim.world.test, whose Maildir this script
# reads. The cause is known by construction: it is the label.
#   usage: scripts/world/exim-dsns.sh OUT_DIR    (the world must be up: scripts/world/start.sh)
# Writes OUT_DIR/exim__<case>.eml and prints one manifest line per file (file, expected
# reason(s), hard/soft) on stdout.
set -euo pipefail
out=${1:?usage: exim-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
E="$W/exim"
PKG=${EXIM_ROOT:-/var/cache/herald/exim-root}
exim_unpacked "$PKG"
rm -rf "$E"
mkdir -p "$E/spool" "$E/log" "$E/dsn/Maildir"/{new,cur,tmp}
chown -R Debian-exim:Debian-exim "$E"
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
cat > "$E/exim.conf" <<CONF
primary_hostname = mx.exim.world.test
exim_path = $PKG/usr/sbin/exim4
qualify_domain = exim.world.test
spool_directory = $E/spool
log_file_path = $E/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
domainlist local_domains = exim.world.test
# The world's own names resolve through its dnsmasq, which Exim cannot be pointed at: every
# route below is by address; anything else is unrouteable.
host_lookup =
rfc1413_hosts =
timeout_frozen_after = 1m
ignore_bounce_errors_after = 1m
# A delay warning once a message has waited 5 s (slow.test's, retried for 20 s).
delay_warning = 5s

begin routers
sender_box:
  driver = accept
  domains = +local_domains
  local_parts = dsn
  transport = sender_maildir
# Dovecot's LMTP, straight: its refusal of a mailbox over quota, after the message.
lmtp_inbox:
  driver = accept
  domains = inbox.test
  local_parts = full
  transport = world_lmtp
# noptr.test refuses a client with no reverse name: reached from 127.0.0.9, which has none.
unnamed:
  driver = manualroute
  route_list = noptr.test 127.0.0.1::12546 byname
  self = send
  transport = unnamed_smtp
world:
  driver = manualroute
  route_list = inbox.test 127.0.0.1::$WORLD_MX_PORT byname ; \\
               toobig.test 127.0.0.1::$TOOBIG_PORT byname ; \\
               blocked.test 127.0.0.1::$BLOCKED_PORT byname ; \\
               norelay.test 127.0.0.1::$NORELAY_PORT byname ; \\
$(refuser_hops | while read -r name port; do
  printf '               %s.test 127.0.0.1::%s byname ; \\\n' "$name" "$port"
done)
               slow.test 127.0.0.2::9 byname ; \\
               stalled.test 127.0.0.3::9 byname
  # The world listens on this machine's loopback: sending there is intended.
  self = send
  transport = remote_smtp

begin transports
remote_smtp:
  driver = smtp
  hosts_avoid_tls = *
unnamed_smtp:
  driver = smtp
  hosts_avoid_tls = *
  interface = 127.0.0.9
world_lmtp:
  driver = lmtp
  socket = $W/dovecot/lmtp.sock
  batch_max = 1
  user = Debian-exim
sender_maildir:
  driver = appendfile
  directory = $E/dsn/Maildir
  maildir_format
  delivery_date_add
  envelope_to_add
  return_path_add
  user = Debian-exim

begin retry
# slow.test refuses every connection: retried for 20 seconds, then the queue gives up.
slow.test * F,20s,4s
# stalled.test refuses too, on a host of its own: Exim warns only after a real attempt, and
# slow.test's host is tried for one message at a time.
stalled.test * F,1m,5s
* * F,1m,10s
CONF
exim() { "$PKG/usr/sbin/exim4" -C "$E/exim.conf" "$@"; }
cases=()
world_cases rcpt-unknown size-limit client-rejected relay-denied retry-timeout two-recipients \
  user-moved sender-rejected rbl-listed no-ptr spf-fail spam-reject-me dmarc-reject \
  rcpt-domain-unknown
# Exim's own: Dovecot's LMTP socket, and a domain no router accepts. (Format: see WORLD_CASE.)
cases+=(
  "lmtp-quota-full|full@inbox.test|mailboxfull|soft|"
  "unrouteable|someone@nowhere.invalid|hostunknown|hard|"
  "delay-warning|someone@stalled.test|networkerror|soft|"
)
# moved.test: the second Postfix instance's relocated user; refuse.test: its refusal of the
# sender; listed.test, noptr.test: its blocklist and reverse-name checks; spf.test, spam.test: its
# SPF policy, rspamd milter and OpenDMARC milter; nodomain.test: its next hop that cannot resolve
# the recipient's domain (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
trap '"$(dirname "$0")/refusers.sh" stop' EXIT
submit dsn@exim.world.test exim "${cases[@]}"
# What was deferred is retried by queue runs until its retry time runs out.
box="$E/dsn/Maildir/new"
wait_for_reports "$box" 120 exim -q
collect exim "$box" "$out" "${cases[@]}"
