#!/usr/bin/env bash
# An Exim daemon as a receiving server that refuses, beside the recipient world: the check set's
# other refusals are all worded by Postfix; these are worded by Exim. Debian's Exim
# (exim4-daemon-light, unpacked with dpkg -x as scripts/world/exim-dsns.sh does) runs under a
# configuration of its own in $HERALD_WORLD/exim-receiver, with Exim's stock wordings (no message
# of the script's own), and listens on
#   127.0.0.1:12550  eximmx.test: alice exists, anyone else is unknown (verify = recipient); any
#                    other domain is refused as a relay; an 8 KB message_size_limit
#   127.0.0.1:12551  refuses every client at connection (a deny in the connect ACL)
#   127.0.0.1:12552  refuses every sender at MAIL FROM (a deny in the MAIL ACL)
#   127.0.0.1:12553  a DNS blocklist (dnslists = bl.test, where 127.0.0.1 is listed) at RCPT TO,
#                    in the words of the stock configuration's example
#   127.0.0.1:12554  verifies the sender (require verify = sender) at RCPT TO: no router here
#                    routes a remote domain, so every remote sender fails
# It resolves through the second Postfix instance's name server (scripts/world/refusers.sh,
# which must be started first: 127.0.0.78 lists 127.0.0.1 on bl.test), bound over
# /etc/resolv.conf in its mount namespace.
# The world's Postfix routes eximmx.test and eximrelay.test to :12550, eximblock.test to :12551,
# eximsender.test to :12552, eximlisted.test to :12553 and eximverify.test to :12554
# (scripts/world/start.sh); dsns.sh and replies.sh start it.
#   usage: scripts/world/exim-receiver.sh start|stop    (refusers.sh started, for start)
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
X=$W/exim-receiver
PKG=${EXIM_ROOT:-/var/cache/herald/exim-root}
stop() {
  stop_pidfiles exim "$X/exim.pid"
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb exim-receiver.sh "${1:-}"
needs_refusers exim-receiver.sh
exim_unpacked "$PKG"
stop
rm -rf "$X"
mkdir -p "$X/spool" "$X/log"
chown -R Debian-exim:Debian-exim "$X"
# (Exim reads a configuration given with -C only if root owns it: written after the chown.)
cat > "$X/exim.conf" <<CONF
primary_hostname = mx.eximmx.test
exim_path = $PKG/usr/sbin/exim4
spool_directory = $X/spool
log_file_path = $X/log/%slog
pid_file_path = $X/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
host_lookup =
rfc1413_hosts =
local_interfaces = 127.0.0.1
daemon_smtp_ports = 12550 : 12551 : 12552 : 12553 : 12554
domainlist local_domains = eximmx.test : eximblock.test : eximsender.test : eximlisted.test : \
  eximverify.test
message_size_limit = 8K
acl_smtp_connect = acl_connect
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt

begin acl
acl_connect:
  deny condition = \${if eq{\$received_port}{12551}}
  accept
acl_mail:
  deny condition = \${if eq{\$received_port}{12552}}
  accept
acl_rcpt:
  # The stock configuration's own words for a relay it will not do.
  deny    !domains = +local_domains
          message = relay not permitted
  # The stock configuration's own words for a listed client (its commented-out dnslists
  # example; Exim's bare default would be "Administrative prohibition").
  deny    condition = \${if eq{\$received_port}{12553}}
          dnslists = bl.test
          message = rejected because \$sender_host_address is in a black list at \$dnslist_domain\n\$dnslist_text
  require verify = recipient
  accept  condition = \${if !eq{\$received_port}{12554}}
  # Exim's own message for a sender it cannot verify ("Sender verify failed").
  require verify = sender
  accept

begin routers
known:
  driver = accept
  domains = +local_domains
  local_parts = alice : someone
  transport = discard

begin transports
discard:
  driver = appendfile
  file = /dev/null
  user = Debian-exim
CONF
unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
  "$PKG/usr/sbin/exim4" "$W/refusers/resolv.conf" -C "$X/exim.conf" -bd -q1h \
  </dev/null >"$X/stdout.log" 2>&1
wait_for_port 12554 "$X/log/mainlog"
