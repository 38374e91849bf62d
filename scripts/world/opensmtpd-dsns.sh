#!/usr/bin/env bash
# Collect real OpenSMTPD bounces for the classifier's check set, as scripts/world/exim-dsns.sh
# does for Exim: Debian's OpenSMTPD 6.8 (unpacked with dpkg -x: its package and Postfix's
# exclude each other) runs in the foreground under its own smtpd.conf, takes one message per
# cause over SMTP on 127.0.0.1:12640 and relays it to the recipient world (its Postfix MX and the
# next hops that refuse), which refuses it for a cause set up on purpose. OpenSMTPD returns its
# own bounce to the sender, dsn@inbox.test, through the world's MX; this script reads that
# Maildir. The cause is known by construction: it is the label.
#   usage: scripts/world/opensmtpd-dsns.sh OUT_DIR    (the world must be up)
# OpenSMTPD's paths are compiled in: it needs the users opensmtpd and opensmtpq,
# /var/lib/opensmtpd/empty and /var/spool/smtpd (mode 711), which this script creates.
set -euo pipefail
out=${1:?usage: opensmtpd-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${OPENSMTPD_ROOT:-/var/cache/herald/opensmtpd-root}
unpack "$PKG" usr/sbin/smtpd opensmtpd
for u in opensmtpd opensmtpq; do
  id "$u" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
done
# A fresh queue: an envelope left from an earlier run would bounce in this one.
rm -rf /var/spool/smtpd
mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
chmod 711 /var/spool/smtpd
PORT=12640
MX_PORT=${WORLD_MX_PORT:-12525}
E="$W/opensmtpd"
mkdir -p "$E"
cat > "$E/smtpd.conf" <<CONF
queue ttl 25s
bounce warn-interval 1h
listen on 127.0.0.1 port $PORT
action "mx" relay host smtp://127.0.0.1:$MX_PORT
action "toobig" relay host smtp://127.0.0.1:${WORLD_TOOBIG_PORT:-12530}
action "blocked" relay host smtp://127.0.0.1:${WORLD_BLOCKED_PORT:-12531}
action "norelay" relay host smtp://127.0.0.1:${WORLD_NORELAY_PORT:-12532}
match from any for domain "inbox.test" action "mx"
match from any for domain "toobig.test" action "toobig"
match from any for domain "blocked.test" action "blocked"
match from any for domain "norelay.test" action "norelay"
action "mx-lookup" relay
$(refuser_hops | while read -r name port; do
  printf 'action "%s" relay host smtp://127.0.0.1:%s\n' "$name" "$port"
  printf 'match from any for domain "%s.test" action "%s"\n' "$name" "$name"
done)
match from any for domain "nowhere.test" action "mx-lookup"
CONF
# nowhere.test is looked up through a resolver of the script's own, bound over
# /etc/resolv.conf in OpenSMTPD's mount namespace.
own_resolver "$E"
# moved.test: the second Postfix instance's relocated user; refuse.test: its refusal of the
# sender; listed.test: its blocklist; spf.test, spam.test, dmarc.test, nodomain.test: its SPF
# policy, rspamd milter, OpenDMARC milter and a next hop that cannot resolve the recipient's
# domain (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
  "$PKG/usr/sbin/smtpd" "$E/resolv.conf" -d -f "$E/smtpd.conf" > "$E/log" 2>&1 &
smtpd=$!
trap 'kill $smtpd 2>/dev/null || true; stop_resolver "$E"; "$(dirname "$0")/refusers.sh" stop' EXIT
wait_for_port "$PORT" "$E/log"
box=$(dsn_box "$W")
cases=()
world_cases rcpt-unknown size-limit client-rejected relay-denied host-unknown user-moved \
  sender-rejected rbl-listed spf-fail spam-reject-me dmarc-reject rcpt-domain-unknown
submit_smtp dsn@inbox.test "${cases[@]}" -- --server "127.0.0.1:$PORT"
# (No two-recipient case: OpenSMTPD bounces each next hop's refusals separately. No
# retry-timeout case: OpenSMTPD takes an unreachable next hop offline and expires the
# envelope only when its backoff comes round, minutes later. No null-MX case: OpenSMTPD 6.8
# does not read a null MX as a refusal; it keeps the message queued and warns.)
# OpenSMTPD spaces its sessions to one address (every next hop here is 127.0.0.1): with a dozen
# cases the last is tried about a minute in.
wait_for_bounces "$box" "${#cases[@]}" 150
collect opensmtpd "$box" "$out" "${cases[@]}"
