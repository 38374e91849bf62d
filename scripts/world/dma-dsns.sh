#!/usr/bin/env bash
# Collect real DragonFly Mail Agent bounces for the classifier's check set, as
# scripts/world/exim-dsns.sh does for Exim: Debian's dma 0.13 (unpacked with dpkg -x: its package
# and Postfix's exclude each other) sends one message per cause to the recipient world, through a
# smarthost that refuses it for a cause set up on purpose (the world's MX, or one of its refusing
# next hops), and writes its own bounce to the local sender's mailbox. The cause is known by
# construction: it is the label.
#   usage: scripts/world/dma-dsns.sh OUT_DIR    (the world must be up: scripts/world/start.sh)
# The unknown domain is resolved by a dnsmasq of the script's own (127.0.0.77:53, NXDOMAIN for
# .test). dma's paths are compiled in (/etc/dma/dma.conf, /var/spool/dma, /var/mail, /usr/lib/dma): each
# run happens in a mount namespace of its own (unshare -m) where directories of this script's own
# are bound over them; the mount points it has to create are removed afterwards.
set -euo pipefail
out=${1:?usage: dma-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${DMA_ROOT:-/var/cache/herald/dma-root}
unpack "$PKG" usr/sbin/dma dma
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
D="$W/dma"
rm -rf "$D"
mkdir -p "$D/etc" "$D/spool" "$D/mail" "$out"
chgrp mail "$D/spool" "$D/mail"
chmod 2775 "$D/spool" "$D/mail"
: > "$D/etc/auth.conf"
made=()
for m in /etc/dma /var/spool/dma /usr/lib/dma; do
  [ -d "$m" ] || { mkdir -p "$m"; made+=("$m"); }
done
own_resolver "$D" # for the unknown domain
# moved.test: the second Postfix instance's relocated user; refuse.test: its refusal of the
# sender (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
cleanup() {
  for m in "${made[@]}"; do rmdir "$m" 2>/dev/null || true; done
  stop_resolver "$D"
  "$(dirname "$0")/refusers.sh" stop
}
trap cleanup EXIT

# case NAME PORT RECIPIENT REASON HARD_SOFT [big]: one message through the smarthost on PORT
# (PORT "-": no smarthost, dma looks up the recipient's MX); its bounce is saved as
# OUT_DIR/dma__NAME.eml and a manifest line printed.
case_() {
  local name=$1 port=$2 rcpt=$3 reason=$4 hardsoft=$5
  if [ "$port" = - ]; then
    printf 'MAILNAME sender.test\n' > "$D/etc/dma.conf"
  else
    printf 'SMARTHOST 127.0.0.1\nPORT %s\nMAILNAME sender.test\n' "$port" > "$D/etc/dma.conf"
  fi
  : > "$D/mail/root"
  printf 'From: root\nTo: %s\nSubject: checkset %s\n\n%s\n' "$rcpt" "$name" "$(body_of "${6:-}")" > "$D/message"
  unshare -m bash -c '
    set -e
    mount --bind "$1/resolv.conf" /etc/resolv.conf
    mount --bind "$1/etc" /etc/dma
    mount --bind "$1/spool" /var/spool/dma
    mount --bind "$1/mail" /var/mail
    mount --bind "$2/usr/lib/dma" /usr/lib/dma
    "$2/usr/sbin/dma" -f root "$3" < "$1/message"
  ' _ "$D" "$PKG" "$rcpt"
  # dma delivers in a child it forks: wait for the bounce in the sender's mbox.
  for _ in $(seq 1 30); do
    grep -q "checkset $name\$" "$D/mail/root" 2>/dev/null && break
    sleep 1
  done
  if ! grep -q "checkset $name\$" "$D/mail/root"; then
    echo "no bounce for $name" >&2
    return 1
  fi
  # The mbox holds the one bounce: drop its "From " separator line.
  tail -n +2 "$D/mail/root" > "$out/dma__$name.eml"
  printf 'dma__%s.eml\t%s\t%s\n' "$name" "$reason" "$hardsoft"
}

case_ rcpt-unknown "$WORLD_MX_PORT" ghost@inbox.test userunknown hard
case_ client-rejected "$BLOCKED_PORT" someone@blocked.test blocked soft
case_ relay-denied "$NORELAY_PORT" someone@norelay.test norelaying soft
case_ size-limit "$TOOBIG_PORT" alice@inbox.test mesgtoobig soft big
case_ host-unknown - someone@nowhere.test hostunknown hard
case_ user-moved 12544 someone@moved.test hasmoved hard
# The second Postfix instance refuses the sender domain, sender.test (dma's MAILNAME).
case_ sender-rejected 12541 someone@refuse.test rejected soft
# Its blocklist, which lists 127.0.0.1 (Postfix's own "blocked using" refusal).
case_ rbl-listed 12545 someone@listed.test blocked soft
# Its rspamd milter (the case's name puts "reject me" in the subject). (No SPF case: dma's
# sender domain is sender.test, which replies.sh's sender-domain check needs without records
# of any kind.)
case_ spam-reject-me 12549 someone@spam.test spamdetected soft
# Its next hop that cannot resolve the recipient's domain.
case_ rcpt-domain-unknown 12539 someone@nodomain.test hostunknown hard
