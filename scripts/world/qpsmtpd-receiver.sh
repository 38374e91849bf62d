#!/usr/bin/env bash
# qpsmtpd as a receiving server that refuses, beside the recipient world, as
# scripts/world/haraka-receiver.sh is for Haraka: its refusals are worded by qpsmtpd 0.94
# (Debian's package, unpacked with dpkg -x; its Perl libraries from Debian) and its stock
# plugins, no message of the script's own. Four qpsmtpd-forkserver daemons, each with a
# configuration of its own (QPSMTPD_CONFIG) under $HERALD_WORLD/qpsmtpd-receiver/<name>:
#   127.0.0.1:12580  rcpt_ok, rcpthosts qpmx.test: any other domain is refused as a relay
#   127.0.0.1:12581  badmailfrom listing dsn@inbox.test and @sender.test (the senders of the
#                    collection scripts): "Your envelope sender is in my badmailfrom list"
#   127.0.0.1:12582  sender_permitted_from at its documented level 3 (refuse an SPF fail):
#                    inbox.test publishes "v=spf1 -all" to it
#   127.0.0.1:12583  resolvable_fromhost, refusing (reject_type perm) a sender's domain with no
#                    MX or address: inbox.test has none there, sender.test does not exist
# They resolve through the second Postfix instance's name server (scripts/world/refusers.sh,
# which must be started first), bound over /etc/resolv.conf in their mount namespace.
# The world's Postfix routes qpmx.test and qprelay.test to :12580, qpsender.test to :12581,
# qpspf.test to :12582 and qpfromhost.test to :12583 (scripts/world/start.sh).
#   usage: scripts/world/qpsmtpd-receiver.sh start|stop    (refusers.sh started, for start)
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
Q=$W/qpsmtpd-receiver
PKG=${QPSMTPD_ROOT:-/var/cache/herald/qpsmtpd-root}
NAMES=(mx sender spf fromhost)
stop() {
  local name
  for name in "${NAMES[@]}"; do stop_pidfiles qpsmtpd "$Q/$name.pid"; done
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb qpsmtpd-receiver.sh "${1:-}"
needs_refusers qpsmtpd-receiver.sh
unpack "$PKG" usr/bin/qpsmtpd-forkserver qpsmtpd
# Its Perl dependencies (none conflicts with Postfix), and Net::IP, which its
# resolvable_fromhost plugin loads though the package does not depend on it.
perl -MNet::DNS -MMail::Header -MMail::SPF -MIPC::Shareable -MDigest::HMAC -MSocket6 \
  -MIO::Socket::INET6 -MNet::IP -e1 2>/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    libnet-dns-perl libmailtools-perl libmail-spf-perl libipc-shareable-perl \
    libdigest-hmac-perl libsocket6-perl libio-socket-inet6-perl libnet-ip-perl >/dev/null
# qpsmtpd will not run as root: it switches to this user.
id qpsmtpd >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin qpsmtpd
stop
rm -rf "$Q"
mkdir -p "$Q"
# instance NAME PORT PLUGIN_LINE…: a configuration directory of this instance's own.
instance() {
  local name=$1 port=$2 dir=$Q/$1
  shift 2
  mkdir -p "$dir/spool"
  chmod 700 "$dir/spool"
  printf '%s\n' "$PKG/usr/share/qpsmtpd/plugins" > "$dir/plugin_dirs"
  printf 'mx.qpsmtpd-%s.test\n' "$name" > "$dir/me"
  printf '%s\n' "$dir/spool" > "$dir/spool_dir"
  printf '6\n' > "$dir/loglevel"
  printf '%s\n' "$@" "queue/maildir $dir/maildir" > "$dir/plugins"
  chown -R qpsmtpd "$dir"
  printf '%s\n' "$port" > "$dir/port"
}
instance mx 12580 rcpt_ok
printf 'qpmx.test\n' > "$Q/mx/rcpthosts"
instance sender 12581 badmailfrom rcpt_ok
printf '%s\n' dsn@inbox.test @sender.test > "$Q/sender/badmailfrom"
printf 'qpsender.test\n' > "$Q/sender/rcpthosts"
instance spf 12582 'sender_permitted_from reject 3' rcpt_ok
printf 'qpspf.test\n' > "$Q/spf/rcpthosts"
instance fromhost 12583 'resolvable_fromhost reject 1 reject_type perm' rcpt_ok
printf 'qpfromhost.test\n' > "$Q/fromhost/rcpthosts"
# (From its own directory: in a git work tree qpsmtpd asks `git describe` for its version.)
cd "$Q"
for name in "${NAMES[@]}"; do
  QPSMTPD_CONFIG=$Q/$name unshare --mount sh -c \
    'mount --bind "$1" /etc/resolv.conf && shift && exec "$0" "$@"' \
    perl "$W/refusers/resolv.conf" -T -I"$PKG/usr/share/perl5" "$PKG/usr/bin/qpsmtpd-forkserver" \
    -l 127.0.0.1 -p "$(cat "$Q/$name/port")" -u qpsmtpd --pid-file "$Q/$name.pid" \
    > "$Q/$name.log" 2>&1 &
done
for name in "${NAMES[@]}"; do
  if ! wait_for_port "$(cat "$Q/$name/port")" "$Q/$name.log"; then
    stop
    exit 1
  fi
done
