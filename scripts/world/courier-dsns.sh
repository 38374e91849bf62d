#!/usr/bin/env bash
# Collect real Courier bounces for the classifier's check set, as scripts/world/exim-dsns.sh does
# for Exim: Debian's courier-mta 1.0.16 (unpacked with dpkg -x: its package and Postfix's exclude
# each other) sends one message per cause to the recipient world — esmtproutes sends each test
# domain to the world's MX or one of its refusing next hops — and mails its own bounce (a
# multipart/report DSN) to dsn@inbox.test through the world's MX. The cause is known by
# construction: it is the label.
#   usage: scripts/world/courier-dsns.sh OUT_DIR    (the world must be up: scripts/world/start.sh)
# Courier's paths are compiled in (/etc/courier, /var/lib/courier, /usr/lib/courier): the run
# happens in a mount namespace of its own (unshare -m) where directories of this script's own are
# bound over them, and over /etc/ld.so.cache a linker cache of its own that finds the unpacked
# libraries; the mount points it has to create are removed afterwards. The unknown domain is
# resolved by a dnsmasq of the script's own (127.0.0.77:53, NXDOMAIN for .test). Left on the
# host: the system user and group `courier` (its modules run as that user) and Debian's libidn12.
set -euo pipefail
out=${1:?usage: courier-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${COURIER_ROOT:-/var/cache/herald/courier-root}
unpack "$PKG" usr/lib/courier/courier/courierd courier-mta courier-base courier-authlib \
  libcourier-unicode4 libgamin0
dpkg -s libidn12 >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q libidn12 >/dev/null
# Courier's modules run as the user courier.
getent passwd courier >/dev/null ||
  useradd --system --user-group --no-create-home --home-dir /var/lib/courier --shell /usr/sbin/nologin courier
MX_PORT=${WORLD_MX_PORT:-12525}
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
D="$W/courier"
rm -rf "$D"
mkdir -p "$D/state" "$out"
cp -a "$PKG/etc/courier" "$D/etc"
for s in allfilters filters msgq msgs sts track tmp; do mkdir -p "$D/state/$s"; done
chown -R courier:courier "$D/state"
chmod 0770 "$D/state/tmp"
printf 'mx.courier.world.test\n' > "$D/etc/me"
printf 'courier.world.test\n' > "$D/etc/defaultdomain"
printf 'localhost\n' > "$D/etc/locals"
# A message that cannot be delivered for a transient cause is retried every 5 s and returned
# after 20 s; no delay warning before that.
printf '20s\n' > "$D/etc/queuetime"
printf '5s\n' > "$D/etc/retryalpha"
printf '5s\n' > "$D/etc/retrygamma"
printf '10\n' > "$D/etc/retrybeta"
printf '1h\n' > "$D/etc/warntime"
printf '5s\n' > "$D/etc/esmtptimeoutconnect"
# Plain SMTP: couriertls's path is compiled in, and the bounces do not depend on TLS.
printf 'ESMTP_USE_STARTTLS=0\n' >> "$D/etc/courierd"
# Courier's programs clear their environment before they run one another, so its unpacked
# libraries are found through a dynamic linker cache of the script's own, made and bound over
# /etc/ld.so.cache in the namespace (the system's directories are in it too).
printf '%s\n' "$PKG/usr/lib" "$PKG/usr/lib/x86_64-linux-gnu" > "$D/ld.so.conf"
mkdir -p "$D/ldconfig"
# slow.test: the world MX's port on 127.0.0.2, where nothing listens. moved.test: the second
# Postfix instance's relocated user; refuse.test: its refusal of the sender; listed.test: its
# blocklist; spf.test, spam.test, dmarc.test, nodomain.test: its SPF policy, rspamd milter,
# OpenDMARC milter and a next hop that cannot resolve the recipient's domain
# (scripts/world/refusers.sh).
cat > "$D/etc/esmtproutes" <<ROUTES
inbox.test: [127.0.0.1],$MX_PORT
toobig.test: [127.0.0.1],$TOOBIG_PORT
blocked.test: [127.0.0.1],$BLOCKED_PORT
norelay.test: [127.0.0.1],$NORELAY_PORT
slow.test: [127.0.0.2],$MX_PORT
$(refuser_hops | while read -r name port; do printf '%s.test: [127.0.0.1],%s\n' "$name" "$port"; done)
ROUTES
made=()
cleanup() {
  for m in "${made[@]}"; do rmdir "$m" 2>/dev/null || true; done
  stop_resolver "$D"
  "$(dirname "$0")/refusers.sh" stop
}
trap cleanup EXIT
for m in /etc/courier /var/lib/courier /usr/lib/courier /var/cache/ldconfig; do
  [ -d "$m" ] || { mkdir -p "$m"; made+=("$m"); }
done
own_resolver "$D" # for the unknown domain
"$(dirname "$0")/refusers.sh" start

box=$(dsn_box "$W")
cases=()
world_cases rcpt-unknown size-limit client-rejected relay-denied retry-timeout two-recipients \
  host-unknown user-moved sender-rejected rbl-listed spf-fail spam-reject-me dmarc-reject \
  rcpt-domain-unknown
# Everything Courier does happens inside one mount namespace: courierd runs there while the
# cases are submitted and their bounces come back, and is stopped before the namespace ends.
unshare --mount --propagation private bash -c '
  set -euo pipefail
  D=$1 PKG=$2 box=$3 lib=$4
  shift 4
  . "$lib"
  # ldconfig writes its aux cache whatever -C says: to a directory of the script'"'"'s own.
  mount --bind "$D/ldconfig" /var/cache/ldconfig
  ldconfig -X -C "$D/ld.so.cache" -f "$D/ld.so.conf"
  mount --bind "$D/ld.so.cache" /etc/ld.so.cache
  mount --bind "$D/resolv.conf" /etc/resolv.conf
  mount --bind "$D/etc" /etc/courier
  mount --bind "$D/state" /var/lib/courier
  mount --bind "$PKG/usr/lib/courier" /usr/lib/courier
  "$PKG/usr/sbin/makealiases" >/dev/null
  # courierd (and its modules) stopped, and waited for, however this ends.
  stop_courier() {
    "$PKG/usr/sbin/courier" stop >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
      ps -eo stat=,comm= | grep -qE "^[^Z]\S* +courier" || return 0
      sleep 0.2
    done
    echo "courierd did not stop" >&2
  }
  trap stop_courier EXIT
  /usr/lib/courier/courierctl.start
  courier_sendmail() { "$PKG/usr/sbin/sendmail" "$@"; }
  submit dsn@inbox.test courier_sendmail "$@"
  # What was deferred is retried until its queue time (20 s) runs out.
  wait_for_bounces "$box" "$#" 90 "$PKG/usr/sbin/courier" flush
' _ "$D" "$PKG" "$box" "$(dirname "$(readlink -f "$0")")/dsn-lib.sh" "${cases[@]}"
collect courier "$box" "$out" "${cases[@]}"
