#!/usr/bin/env bash
# Collect real Haraka bounces for the classifier's check set, as scripts/world/exim-dsns.sh does
# for Exim: Haraka 3.3.4 (from the npm registry, into /var/cache/herald/haraka) runs in the
# foreground under a configuration of its own in $HERALD_WORLD/haraka, takes one message per
# cause over SMTP on 127.0.0.1:12650 (relaying for loopback clients) and delivers it through
# its outbound queue to the recipient world (its Postfix MX and the next hops that refuse),
# which refuses it for a cause set up on purpose. Haraka returns its own bounce to the sender,
# dsn@inbox.test, through the world's MX; this script reads that Maildir. The cause is known by
# construction: it is the label.
#   usage: scripts/world/haraka-dsns.sh OUT_DIR    (the world must be up)
# Where each domain goes is a get_mx hook of the script's own (Haraka's plugin interface); the
# unknown domain and the null MX are looked up in DNS, through a dnsmasq of the script's own
# bound over /etc/resolv.conf in Haraka's mount namespace.
set -euo pipefail
out=${1:?usage: haraka-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${HARAKA_ROOT:-/var/cache/herald/haraka}
haraka_installed "$PKG"
PORT=12650
MX_PORT=${WORLD_MX_PORT:-12525}
H="$W/haraka"
rm -rf "$H"
# Haraka's own skeleton (every config file it expects), then the settings of this run.
"$PKG/node_modules/.bin/haraka" -i "$H" >/dev/null
mkdir -p "$H/queue"
printf 'listen=127.0.0.1:%s\n' "$PORT" > "$H/config/smtp.ini"
printf 'mx.haraka.world.test\n' > "$H/config/me"
printf 'herald_world\n' > "$H/config/plugins"
printf 'level=info\n' > "$H/config/log.ini"
# No STARTTLS to the world's self-signed MX; a deferral is retried twice, 5 s apart (Haraka's
# shortest), then bounced (the retry-timeout case).
printf 'enable_tls=false\ntemp_fail_intervals=5s*2\n' > "$H/config/outbound.ini"
cat > "$H/plugins/herald_world.js" <<JS
// Loopback clients relay; each test domain goes to the world's MX or a refusing next hop.
// Haraka does not announce a message's SIZE, so the 8 KB next hop refuses it after DATA, for
// a recipient it serves: alice@inbox.test, the one recipient sent there.
const ROUTES = {
  'inbox.test': ['127.0.0.1', $MX_PORT],
  'blocked.test': ['127.0.0.1', ${WORLD_BLOCKED_PORT:-12531}],
  'norelay.test': ['127.0.0.1', ${WORLD_NORELAY_PORT:-12532}],
$(refuser_hops | while read -r name port; do printf "  '%s.test': ['127.0.0.1', %s],\n" "$name" "$port"; done)
  'slow.test': ['127.0.0.2', 9],
}
exports.hook_connect = function (next, connection) {
  connection.relaying = true
  next()
}
exports.hook_get_mx = function (next, hmail, domain) {
  const big = hmail.todo.rcpt_to.some((r) => r.user === 'alice' && r.host === 'inbox.test')
  const route = big ? ['127.0.0.1', ${WORLD_TOOBIG_PORT:-12530}] : ROUTES[domain]
  if (!route) return next()
  next(OK, { exchange: route[0], port: route[1], priority: 10 })
}
JS
haraka=
# Set before anything starts, so a failure half-way stops what did start.
trap '[ -n "$haraka" ] && kill "$haraka" 2>/dev/null; stop_resolver "$H"; "$(dirname "$0")/refusers.sh" stop' EXIT
own_resolver "$H"
"$(dirname "$0")/refusers.sh" start
unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
  "$PKG/node_modules/.bin/haraka" "$H/resolv.conf" -c "$H" > "$H/log" 2>&1 &
haraka=$!
wait_for_port "$PORT" "$H/log"
box=$(dsn_box "$W")
cases=()
world_cases rcpt-unknown client-rejected relay-denied user-moved sender-rejected host-unknown \
  null-mx retry-timeout rbl-listed spf-fail spam-reject-me dmarc-reject rcpt-domain-unknown
# Haraka announces no SIZE, so the 8 KB next hop refuses only after DATA, for a recipient it
# serves: alice@inbox.test, which the get_mx plugin above sends there.
cases+=("size-limit|alice@inbox.test|mesgtoobig|soft|big")
# (haraka__retry-timeout was read wrong once, fixed in general, and so is kept in
# testdata/tuning, not in the check set.)
submit_smtp dsn@inbox.test "${cases[@]}" -- --server "127.0.0.1:$PORT"
wait_for_bounces "$box" "${#cases[@]}" 90
collect haraka "$box" "$out" "${cases[@]}"
