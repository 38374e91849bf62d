#!/usr/bin/env bash
# Collect real Sendmail DSNs for the classifier's check set, as scripts/world/exim-dsns.sh does
# for Exim: Debian's Sendmail 8.17 (sendmail-bin and sendmail-cf, unpacked with dpkg -x: they
# and Postfix exclude each other) runs under its own sendmail.cf, made with m4 from the mc below,
# takes one message per cause from the command line and delivers it to the recipient world (its
# Postfix MX and the next hops that refuse, routed by a mailertable), which refuses it for a
# cause set up on purpose. Sendmail returns its own DSN to the sender, dsn@inbox.test, through
# the world's MX; this script reads that Maildir. The cause is known by construction: the label.
#   usage: scripts/world/sendmail-dsns.sh OUT_DIR    (the world must be up)
# Sendmail's files live in /var/cache/herald/sendmail-world: it will not open a map under a
# world-writable directory such as /tmp. It is run in its own UTS namespace under a fully
# qualified host name (it sleeps a minute when the machine's name has no domain).
set -euo pipefail
out=${1:?usage: sendmail-dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
PKG=${SENDMAIL_ROOT:-/var/cache/herald/sendmail-root}
SM=/var/cache/herald/sendmail-world
sendmail_unpacked "$PKG"
CF="$PKG/usr/share/sendmail/cf"
MX_PORT=${WORLD_MX_PORT:-12525}
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
paths=$(sendmail_dir "$SM")
q="'" # m4's closing quote
cat > "$SM/world.mc" <<MC
divert(-1)
divert(0)dnl
include(\`$CF/m4/cf.m4$q)dnl
VERSIONID(\`herald recipient world$q)dnl
OSTYPE(\`linux$q)dnl
define(\`confDOMAIN_NAME$q, \`mx.sendmail.world.test$q)dnl
define(\`confDONT_PROBE_INTERFACES$q, \`True$q)dnl
$paths
define(\`confTO_QUEUERETURN$q, \`20s$q)dnl
define(\`confTO_QUEUEWARN$q, \`5s$q)dnl
define(\`confDELIVERY_MODE$q, \`interactive$q)dnl
define(\`SMTP_MAILER_ARGS$q, \`TCP \$h $MX_PORT$q)dnl
define(\`ESMTP_MAILER_ARGS$q, \`TCP \$h $MX_PORT$q)dnl
FEATURE(\`nocanonify$q)dnl
FEATURE(\`accept_unresolvable_domains$q)dnl
FEATURE(\`mailertable$q, \`hash -o $SM/mailertable$q)dnl
MAILER(\`local$q)dnl
MAILER(\`smtp$q)dnl
MAILER_DEFINITIONS
Mtoobig,	P=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\r\n, L=990, T=DNS/RFC822/SMTP, A=TCP \$h $TOOBIG_PORT
Mblocked,	P=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\r\n, L=990, T=DNS/RFC822/SMTP, A=TCP \$h $BLOCKED_PORT
Mnorelay,	P=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\r\n, L=990, T=DNS/RFC822/SMTP, A=TCP \$h $NORELAY_PORT
$(refuser_hops | while read -r name port; do
  printf 'M%s,\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990, T=DNS/RFC822/SMTP, A=TCP $h %s\n' "$name" "$port"
done)
MC
m4 "$SM/world.mc" > "$SM/sendmail.cf"
# slow.test: the world MX's port on 127.0.0.2, where nothing listens.
{
  printf '%s\n' 'inbox.test esmtp:[127.0.0.1]' 'toobig.test toobig:[127.0.0.1]' \
    'blocked.test blocked:[127.0.0.1]' 'norelay.test norelay:[127.0.0.1]' 'slow.test esmtp:[127.0.0.2]'
  refuser_hops | while read -r name _; do printf '%s.test %s:[127.0.0.1]\n' "$name" "$name"; done
} | "$PKG/usr/libexec/sendmail/makemap" -C "$SM/sendmail.cf" hash "$SM/mailertable"
# The unknown domain (nowhere.test, in no mailertable entry) is looked up through a resolver
# of the script's own, bound over /etc/resolv.conf in Sendmail's namespace.
own_resolver "$SM"
# moved.test: the second Postfix instance's relocated user; refuse.test: its refusal of the
# sender; listed.test: its blocklist; spf.test, spam.test, dmarc.test, nodomain.test: its SPF
# policy, rspamd milter, OpenDMARC milter and a next hop that cannot resolve the recipient's
# domain (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
trap 'stop_resolver "$SM"; "$(dirname "$0")/refusers.sh" stop' EXIT
sendmail() {
  unshare --uts --mount sh -c 'mount --bind "$1" /etc/resolv.conf && hostname mx.sendmail.world.test && shift && exec "$0" "$@"' \
    "$PKG/usr/libexec/sendmail/sendmail" "$SM/resolv.conf" -C "$SM/sendmail.cf" "$@"
}
box=$(dsn_box "$W")
cases=()
world_cases rcpt-unknown size-limit client-rejected relay-denied retry-timeout two-recipients \
  host-unknown null-mx user-moved sender-rejected delay-warning rbl-listed spf-fail spam-reject-me \
  dmarc-reject rcpt-domain-unknown
submit dsn@inbox.test sendmail "${cases[@]}"
# What was deferred is retried by queue runs until its return time (20 s) runs out.
wait_for_reports "$box" 90 sendmail -q
collect sendmail "$box" "$out" "${cases[@]}"
