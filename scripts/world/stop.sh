#!/usr/bin/env bash
# Stop the recipient world started by start.sh (by its pid files; no broad kills).
W=${HERALD_WORLD:-/tmp/herald-world}
[ -d "$W" ] || exit 0
rm -f "$W/env"   # tests read it to find a running world
[ -f "$W/postfix/etc/main.cf" ] && postfix -c "$W/postfix/etc" stop </dev/null >/dev/null 2>&1
# The second instance of scripts/world/refusers.sh, if a collection run was killed.
[ -f "$W/refusers/etc/main.cf" ] && postfix -c "$W/refusers/etc" stop </dev/null >/dev/null 2>&1
# And the Exim, Sendmail, Haraka, qpsmtpd, chasquid and Cyrus daemons of
# scripts/world/exim-receiver.sh, sendmail-receiver.sh, haraka-receiver.sh, qpsmtpd-receiver.sh,
# chasquid-receiver.sh and cyrus-receiver.sh.
"$(dirname "$0")/exim-receiver.sh" stop
"$(dirname "$0")/sendmail-receiver.sh" stop
"$(dirname "$0")/haraka-receiver.sh" stop
"$(dirname "$0")/qpsmtpd-receiver.sh" stop
"$(dirname "$0")/chasquid-receiver.sh" stop
"$(dirname "$0")/cyrus-receiver.sh" stop
. "$(dirname "$0")/dsn-lib.sh"
# scripts/world/chasquid-dsns.sh's chasquid, resolver and forwarders, if its run was killed.
stop_pidfiles 'chasquid|dnsmasq|socat' "$W/chasquid/chasquid.pid" "$W/chasquid/dnsmasq.pid" \
  "$W/chasquid"/socat-*.pid
stop_pidfiles dnsmasq "$W/dns/dnsmasq.pid" "$W/refusers/dnsmasq.pid"
[ -f "$W/dovecot/dovecot.conf" ] && doveadm -c "$W/dovecot/dovecot.conf" stop </dev/null >/dev/null 2>&1
if [ -f "$W/rspamd/run/rspamd.pid" ]; then
  pid=$(cat "$W/rspamd/run/rspamd.pid")
  if [ -n "$pid" ] && grep -q rspamd "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"
    # Its workers let go of the ports a moment later: wait, so a new start can bind them.
    for _ in $(seq 1 200); do grep -q rspamd "/proc/$pid/cmdline" 2>/dev/null || break; sleep 0.05; done
    grep -q rspamd "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
  fi
fi
exit 0
