#!/usr/bin/env bash
# Publish test DNS records in the recipient world: FILE holds dnsmasq lines
# (txt-record=…, mx-host=…); they replace what was published before. dnsmasq reads TXT/MX
# records only at start, so it is restarted (by its pid file) and waited for.
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
[ -f "$W/env" ] || { echo "the recipient world is not running" >&2; exit 1; }
. "$W/env"
cp "$1" "$W/dns/published.conf"
pid=$(cat "$W/dns/dnsmasq.pid")
if grep -q dnsmasq "/proc/$pid/cmdline" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 50); do [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || break; sleep 0.05; done
fi
dnsmasq --conf-file="$W/dns/dnsmasq.conf" </dev/null >>"$W/dns/stdout.log" 2>&1
port=${WORLD_DNS##*:}
for _ in $(seq 1 100); do
  dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 mx.inbox.test A 2>/dev/null | grep -q 127.0.0.1 && exit 0
  sleep 0.05
done
echo "dnsmasq did not come back" >&2
exit 1
