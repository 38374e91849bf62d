#!/usr/bin/env bash
# Cyrus IMAP's LMTP server as a mail store that refuses, beside the recipient world, as
# scripts/world/chasquid-receiver.sh is for chasquid: its refusals are worded by Cyrus 3.6
# (Debian's cyrus-common, whose lmtpd the world's Postfix delivers to over LMTP), no message of
# the script's own. Two Cyrus masters, each running lmtpd only, configured under
# $HERALD_WORLD/cyrus-receiver/<name>:
#   127.0.0.1:12600  cyrus.test: a user with no mailbox ("550-Mailbox unknown. …" then "550
#                    5.1.1 User unknown"); full@ has a mailbox created on its first delivery
#                    with a 1 KiB quota, counted with the message's announced size
#                    (lmtp_strict_quota), refused for good (lmtp_over_quota_perm_failure:
#                    "552 5.2.2 Over quota")
#   127.0.0.1:12602  cyrustemp.test: the same quota refused for now, Cyrus's default ("452 4.2.2
#                    Over quota"): the sender retries until its queue gives up
# The world's Postfix routes cyrus.test to :12600 and cyrustemp.test to :12602 with its LMTP
# client (scripts/world/start.sh).
#   usage: scripts/world/cyrus-receiver.sh start|stop
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
C=$W/cyrus-receiver
CYRUS=/usr/lib/cyrus/bin
stop() {
  stop_pidfiles "$CYRUS/master" "$C/perm/master.pid" "$C/temp/master.pid"
}
. "$(dirname "$0")/dsn-lib.sh"
receiver_verb cyrus-receiver.sh "${1:-}"
if [ ! -x "$CYRUS/master" ]; then
  # Debian's package; a refused start keeps its own service (every protocol, the system's
  # paths) from starting.
  cyrus_install() {
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cyrus-common >/dev/null
    local rc=$?
    rm -f /usr/sbin/policy-rc.d
    return $rc
  }
  cyrus_install || { apt-get update >/dev/null && cyrus_install; }
fi
stop
rm -rf "$C"
# instance NAME DOMAIN PORT PERMANENT: a master for DOMAIN running lmtpd on PORT; over quota is
# refused for good when PERMANENT is yes.
instance() {
  local name=$1 domain=$2 port=$3 permanent=$4 d=$C/$1
  mkdir -p "$d/config" "$d/spool"
  cat > "$d/imapd.conf" <<CONF
configdirectory: $d/config
partition-default: $d/spool
defaultpartition: default
servername: mx.$domain
admins: cyrus
unixhierarchysep: yes
lmtp_over_quota_perm_failure: $permanent
lmtp_strict_quota: yes
autocreate_post: yes
autocreate_quota: 1
autocreate_users: full
statuscache: no
syslog_prefix: cyrus-$name
CONF
  cat > "$d/cyrus.conf" <<CONF
START {
  recover cmd="ctl_cyrusdb -C $d/imapd.conf -r"
}
SERVICES {
  lmtp cmd="lmtpd -C $d/imapd.conf -a" listen="127.0.0.1:$port" prefork=0 maxchild=5
}
EVENTS {
}
CONF
  chown -R cyrus:mail "$d"
  # The master drops to the cyrus user and goes into the background (its pid file names it).
  if ! "$CYRUS/master" -C "$d/imapd.conf" -M "$d/cyrus.conf" -p "$d/master.pid" -d \
    > "$d/master.log" 2>&1 || ! wait_for_port "$port" "$d/master.log"; then
    cat "$d/master.log" >&2 2>/dev/null || true
    stop
    exit 1
  fi
}
instance perm cyrus.test 12600 yes
instance temp cyrustemp.test 12602 no
