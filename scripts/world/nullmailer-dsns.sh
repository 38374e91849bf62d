#!/usr/bin/env bash
# Collect real nullmailer bounces for the classifier's check set, as scripts/world/dma-dsns.sh
# does for dma: Debian's nullmailer 2.2 (unpacked with dpkg -x: its package and Postfix's exclude
# each other) queues one message per cause and sends it, once (pausetime 0), to a smarthost
# that refuses it for a cause set up on purpose (the world's MX, or one of its refusing next
# hops); nullmailer-send moves the message to its failed queue and queues the bounce
# nullmailer-dsn writes, which is taken from the queue (its envelope lines removed) before it
# is ever sent. The cause is known by construction: it is the label.
#   usage: scripts/world/nullmailer-dsns.sh OUT_DIR    (the world must be up: scripts/world/start.sh)
# nullmailer's paths are compiled in (/etc/nullmailer, /var/spool/nullmailer,
# /usr/lib/nullmailer; Debian's nullmailer-dsn reads /etc/mailname): each run happens in a
# mount namespace of its own (unshare -m) where directories of this script's own are bound over
# them; the mount points it has to create are removed afterwards.
set -euo pipefail
out=${1:?usage: nullmailer-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${NULLMAILER_ROOT:-/var/cache/herald/nullmailer-root}
unpack "$PKG" usr/sbin/nullmailer-send nullmailer
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
D="$W/nullmailer"
rm -rf "$D"
mkdir -p "$D/etc" "$out"
printf 'sender.test\n' > "$D/etc/defaultdomain"
printf 'sender.test\n' > "$D/mailname"
printf '0\n' > "$D/etc/pausetime"
made=()
for m in /etc/nullmailer /var/spool/nullmailer /usr/lib/nullmailer; do
  [ -d "$m" ] || { mkdir -p "$m"; made+=("$m"); }
done
# Files bound over: Debian's mailname, and the programs nullmailer runs by their compiled paths.
for f in /etc/mailname /usr/sbin/nullmailer-queue /usr/bin/nullmailer-dsn; do
  [ -e "$f" ] || { : > "$f"; made+=("$f"); }
done
# moved.test: the second Postfix instance's relocated user; refuse.test: its refusal of the
# sender (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
cleanup() {
  for m in "${made[@]}"; do
    if [ -d "$m" ]; then rmdir "$m" 2>/dev/null || true; else rm -f "$m"; fi
  done
  "$(dirname "$0")/refusers.sh" stop
}
trap cleanup EXIT

# case NAME PORT [RECIPIENT]: the world's case NAME (dsn-lib.sh's WORLD_CASE: its recipient,
# reason, hard/soft, body) as one message through the smarthost on PORT, to RECIPIENT if given;
# its bounce is saved as OUT_DIR/nullmailer__NAME.eml and a manifest line printed.
case_() {
  local name=$1 port=$2 rcpt reason hardsoft size q
  IFS='|' read -r _ rcpt reason hardsoft size <<<"${WORLD_CASE[$name]:?no world case $name}"
  rcpt=${3:-$rcpt}
  rm -rf "$D/spool"
  mkdir -p "$D/spool/queue" "$D/spool/tmp" "$D/spool/failed"
  mkfifo "$D/spool/trigger"
  # nullmailer's programs run as mail (Debian's are set-uid to it).
  chown -R mail:mail "$D/spool"
  printf '127.0.0.1 smtp port=%s\n' "$port" > "$D/etc/remotes"
  printf 'From: root@sender.test\nTo: %s\nSubject: checkset %s\n\n%s\n' \
    "$rcpt" "$name" "$(body_of "$size")" > "$D/message"
  unshare -m bash -c '
    set -e
    mount --bind "$1/etc" /etc/nullmailer
    mount --bind "$1/spool" /var/spool/nullmailer
    mount --bind "$1/mailname" /etc/mailname
    mount --bind "$2/usr/lib/nullmailer" /usr/lib/nullmailer
    mount --bind "$2/usr/sbin/nullmailer-queue" /usr/sbin/nullmailer-queue
    mount --bind "$2/usr/bin/nullmailer-dsn" /usr/bin/nullmailer-dsn
    "$2/usr/bin/nullmailer-inject" -f root@sender.test "$3" < "$1/message"
    # One pass over the queue (pausetime 0): the refusal, then the bounce queued.
    timeout 60 "$2/usr/sbin/nullmailer-send" > "$1/send.log" 2>&1 || true
  ' _ "$D" "$PKG" "$rcpt"
  q=$(find "$D/spool/queue" -type f | head -1)
  if [ -z "$q" ] || ! grep -q "checkset $name\$" "$q"; then
    echo "no bounce for $name" >&2
    cat "$D/send.log" >&2
    return 1
  fi
  # A queue file: the envelope sender's line, the recipients' lines, a blank line, the message.
  awk 'NR == 1 { next } body { print; next } /^$/ { body = 1 }' "$q" > "$out/nullmailer__$name.eml"
  printf 'nullmailer__%s.eml\t%s\t%s\n' "$name" "$reason" "$hardsoft"
}

case_ rcpt-unknown "$WORLD_MX_PORT"
case_ client-rejected "$BLOCKED_PORT"
case_ relay-denied "$NORELAY_PORT"
# The 8 KB next hop, given a recipient of the world's MX (as dma's script does).
case_ size-limit "$TOOBIG_PORT" alice@inbox.test
case_ user-moved 12544
# The second Postfix instance refuses the sender domain, sender.test.
case_ sender-rejected 12541
# Its blocklist, which lists 127.0.0.1 (Postfix's own "blocked using" refusal).
case_ rbl-listed 12545
# Its rspamd milter (the case's name puts "reject me" in the subject).
case_ spam-reject-me 12549
# Its next hop that cannot resolve the recipient's domain.
case_ rcpt-domain-unknown 12539
