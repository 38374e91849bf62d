#!/usr/bin/env bash
# A second Postfix instance beside the recipient world, for refusals the world's own services do
# not set up; the check-set collection scripts (replies.sh, the *-dsns.sh) start it and stop it.
#   usage: scripts/world/refusers.sh start|stop    (the world must be up for start)
# It takes the world's main.cf with a queue of its own, under $HERALD_WORLD/refusers, and listens
# (the world's own Postfix reaches :12541 and :12544 too, so they greet with names of their own:
# Postfix refuses a next hop that greets with its own name):
#   127.0.0.1:12541  check_sender_access rejects the domain sender.test and the senders the
#                    bounce-collection scripts use (dsn@inbox.test, dsn@exim.world.test,
#                    dsn@chq.world.test): a sender refusal, returned to them as a bounce
#   127.0.0.1:12542  smtpd_client_connection_count_limit = 1
#   127.0.0.1:12543  smtpd_client_message_rate_limit = 1
#   127.0.0.1:12544  moved.test's users have moved (relocated_maps): 550 5.1.6 at RCPT TO
#   127.0.0.1:12545  reject_rbl_client bl.test, where 127.0.0.1 is listed: Postfix's own
#                    "blocked using" refusal (a blocklisted client)
#   127.0.0.1:12546  reject_unknown_reverse_client_hostname (550): a client connecting from
#                    127.0.0.9 has no reverse name here (127.0.0.1 is localhost in /etc/hosts)
#   127.0.0.1:12547  reject_unknown_sender_domain (550): the sender's domain does not resolve
#   127.0.0.1:12548  Debian's postfix-policyd-spf-python at RCPT TO: the collection scripts'
#                    sender domains publish "v=spf1 -all" here, so their mail fails SPF
#   127.0.0.1:12549  the world's rspamd as a milter (its proxy worker): a subject saying
#                    "reject me" scores over rspamd's reject threshold, refused after DATA
#   127.0.0.1:12539  reject_unknown_recipient_domain (550): the recipient's domain does not
#                    resolve here (a next hop that relays for loopback clients)
#   127.0.0.1:12540  Debian's OpenDMARC as a milter (on 127.0.0.1:12538, rejecting failures):
#                    the collection scripts' sender domains publish "p=reject" here and send
#                    with no DKIM signature and no SPF result, refused after DATA
#   127.0.0.1:12536  reject_unverified_recipient (550): Postfix's address verification probes
#                    vrfy.test's users at Cyrus's lmtpd (scripts/world/cyrus-receiver.sh, which
#                    must be running), where they have no mailbox: "Recipient address rejected:
#                    undeliverable address: … said: 550-Mailbox unknown. …"
#   127.0.0.1:12535  reject_unverified_sender (550): its probe of the sender's domain, which
#                    does not resolve here: "Sender address rejected: undeliverable address: …"
#   127.0.0.1:12537  postscreen in front of an smtpd, enforcing its DNSBL check against bl.test
#                    (where 127.0.0.1 is listed): postscreen's own "Service unavailable; client
#                    […] blocked using bl.test", at RCPT TO (no access list: the stock one
#                    passes loopback clients)
# The instance resolves through a dnsmasq of its own (127.0.0.78:53: NXDOMAIN for every .test
# name and every reverse name but bl.test's listing of 127.0.0.1), bound over /etc/resolv.conf
# in a mount namespace of its own (Postfix has no setting for a name server), so the world's
# other users of /etc/resolv.conf are untouched.
# scripts/world/stop.sh stops it too.
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
R=$W/refusers
SPF_CONF=/etc/postfix-policyd-spf-python/policyd-spf.conf
DMARC_MILTER=12538
. "$(dirname "$0")/dsn-lib.sh"
stop_dns() {
  stop_pidfiles dnsmasq "$R/dnsmasq.pid"
  stop_pidfiles opendmarc "$R/opendmarc.pid"
}
case ${1:-} in
  stop)
    if [ -f "$R/etc/main.cf" ]; then postfix -c "$R/etc" stop </dev/null >/dev/null 2>&1 || true; fi
    stop_dns
    exit 0
    ;;
  start) ;;
  *)
    echo "usage: refusers.sh start|stop" >&2
    exit 2
    ;;
esac
. "$W/env"
# rspamd's proxy worker (a milter) listens one port below its normal worker (start.sh).
RSPAMD_MILTER=$((${WORLD_RSPAMD##*:} - 1))
if [ ! -f "$SPF_CONF" ] || ! command -v opendmarc >/dev/null; then
  # The SPF policy server (no daemon of its own: Postfix spawns it) and OpenDMARC (run by this
  # script; a refused start keeps the package's own service from starting).
  extras_install() {
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postfix-policyd-spf-python opendmarc >/dev/null
    local rc=$?
    rm -f /usr/sbin/policy-rc.d
    return $rc
  }
  extras_install || { apt-get update >/dev/null && extras_install; }
fi
postfix -c "$R/etc" stop >/dev/null 2>&1 || true
stop_dns
rm -rf "$R" && mkdir -p "$R/etc" "$R/spool" "$R/data"
# Its stock settings, but loopback clients are checked (the stock file skips them).
sed -e 's|^skip_addresses = .*|skip_addresses = 192.0.2.0/24|' "$SPF_CONF" > "$R/etc/policyd-spf.conf"
if ! grep -qx 'skip_addresses = 192.0.2.0/24' "$R/etc/policyd-spf.conf"; then
  echo "$SPF_CONF has no skip_addresses line to replace: loopback clients would not be checked" >&2
  exit 1
fi
# OpenDMARC rejects what fails DMARC; it checks loopback clients too (it ignores 127.0.0.1 by
# default). No SPF check of its own (its built-in one passes loopback clients): with no SPF
# result in the headers and no DKIM signature, nothing aligned passes.
printf '192.0.2.1\n' > "$R/etc/dmarc-ignore"
cat > "$R/etc/opendmarc.conf" <<CONF
Socket inet:$DMARC_MILTER@127.0.0.1
PidFile $R/opendmarc.pid
AuthservID mx.dmarc.test
IgnoreHosts $R/etc/dmarc-ignore
PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat
RejectFailures true
SPFSelfValidate false
Syslog false
CONF
sed -e "s|^queue_directory = .*|queue_directory = $R/spool|" \
    -e "s|^data_directory = .*|data_directory = $R/data|" \
    -e "s|^maillog_file = .*|maillog_file = $R/maillog|" \
    -e "s|^virtual_mailbox_domains = \(.*\)|virtual_mailbox_domains = \\1, moved.test|" \
    "$W/postfix/etc/main.cf" > "$R/etc/main.cf"
# moved.test's users have moved (an address class is resolved by trivial-rewrite, which reads
# main.cf, so the domain and the table are the instance's own, not one service's -o).
printf 'relocated_maps = texthash:%s\n' "$R/etc/relocated" >> "$R/etc/main.cf"
printf '%s REJECT\n' sender.test dsn@inbox.test dsn@exim.world.test dsn@chq.world.test > "$R/etc/sender_access"
printf '@moved.test someone@elsewhere.test\n' > "$R/etc/relocated"
# Address verification's probes of vrfy.test go to Cyrus's lmtpd (a gateway in front of its
# mail store); the probe's answer is waited for, so the first refusal is final, not "450 …
# Address verification in progress".
printf 'address_verify_transport_maps = texthash:%s\naddress_verify_poll_count = 10\naddress_verify_poll_delay = 1s\n' \
  "$R/etc/verify_transport" >> "$R/etc/main.cf"
printf 'vrfy.test lmtp:inet:[127.0.0.1]:12600\n' > "$R/etc/verify_transport"
# The world's own master.cf recipe (no chroot, no pickup, no local delivery agents) minus its MX.
sed -e '/^smtp      inet/d' \
    -e 's/^\([a-z]*  *unix *[-n]  *[-n]  *\)y/\1n/' \
    -e '/^pickup/d' -e '/^maildrop/,$d' \
    /usr/share/postfix/master.cf.dist > "$R/etc/master.cf"
# milter_service PORT NAME MILTER_PORT: a service that takes mail for NAME.test from loopback
# clients and lets the milter on MILTER_PORT refuse it after DATA.
milter_service() {
  cat <<SERVICE
127.0.0.1:$1 inet n - n - - smtpd
  -o syslog_name=refusers/$2
  -o myhostname=mx.$2.test
  -o mynetworks=127.0.0.0/8
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_milters=inet:127.0.0.1:$3
  -o milter_default_action=tempfail
SERVICE
}
cat >> "$R/etc/master.cf" <<CONF
127.0.0.1:12541 inet n - n - - smtpd
  -o syslog_name=refusers/sender
  -o myhostname=mx.refuse.test
  -o smtpd_sender_restrictions=check_sender_access,texthash:$R/etc/sender_access
127.0.0.1:12542 inet n - n - - smtpd
  -o syslog_name=refusers/connlimit
  -o smtpd_client_connection_count_limit=1
127.0.0.1:12543 inet n - n - - smtpd
  -o syslog_name=refusers/ratelimit
  -o smtpd_client_message_rate_limit=1
127.0.0.1:12544 inet n - n - - smtpd
  -o syslog_name=refusers/relocated
  -o myhostname=mx.moved.test
127.0.0.1:12545 inet n - n - - smtpd
  -o syslog_name=refusers/rbl
  -o myhostname=mx.listed.test
  -o smtpd_client_restrictions=reject_rbl_client,bl.test
127.0.0.1:12546 inet n - n - - smtpd
  -o syslog_name=refusers/noptr
  -o myhostname=mx.noptr.test
  -o smtpd_client_restrictions=reject_unknown_reverse_client_hostname
  -o unknown_client_reject_code=550
127.0.0.1:12547 inet n - n - - smtpd
  -o syslog_name=refusers/senderdomain
  -o myhostname=mx.unverified.test
  -o smtpd_sender_restrictions=reject_unknown_sender_domain
  -o unknown_address_reject_code=550
127.0.0.1:12548 inet n - n - - smtpd
  -o syslog_name=refusers/spf
  -o myhostname=mx.spf.test
  -o mynetworks=127.0.0.0/8
  -o smtpd_relay_restrictions=check_policy_service,unix:private/policyd-spf,permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
127.0.0.1:12539 inet n - n - - smtpd
  -o syslog_name=refusers/rcptdomain
  -o myhostname=mx.relay.test
  -o mynetworks=127.0.0.0/8
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=reject_unknown_recipient_domain,permit_mynetworks,reject
  -o unknown_address_reject_code=550
127.0.0.1:12536 inet n - n - - smtpd
  -o syslog_name=refusers/verify-recipient
  -o myhostname=mx.vrfy.test
  -o mynetworks=127.0.0.0/8
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=reject_unverified_recipient,permit_mynetworks,reject
  -o unverified_recipient_reject_code=550
127.0.0.1:12535 inet n - n - - smtpd
  -o syslog_name=refusers/verify-sender
  -o myhostname=mx.vrfysender.test
  -o mynetworks=127.0.0.0/8
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_sender_restrictions=reject_unverified_sender
  -o unverified_sender_reject_code=550
127.0.0.1:12537 inet n - n - 1 postscreen
  -o syslog_name=refusers/postscreen
  -o myhostname=mx.screened.test
  -o postscreen_access_list=
  -o postscreen_dnsbl_sites=bl.test
  -o postscreen_dnsbl_threshold=1
  -o postscreen_dnsbl_action=enforce
  -o postscreen_greet_wait=1s
smtpd pass - - n - - smtpd
  -o syslog_name=refusers/postscreen
  -o myhostname=mx.screened.test
dnsblog unix - - n - 0 dnsblog
tlsproxy unix - - n - 0 tlsproxy
$(milter_service 12549 spam "$RSPAMD_MILTER")
$(milter_service 12540 dmarc "$DMARC_MILTER")
policyd-spf unix - n n - 0 spawn
  user=policyd-spf argv=/usr/bin/policyd-spf $R/etc/policyd-spf.conf
CONF
chown postfix "$R/data"
# The instance's own name server: bl.test lists 127.0.0.1 (RFC 5782: 127.0.0.2 and a reason).
dnsmasq --port=53 --listen-address=127.0.0.78 --bind-interfaces --no-resolv --no-hosts \
  --local=/test/ --local=/in-addr.arpa/ \
  --host-record=1.0.0.127.bl.test,127.0.0.2 \
  --txt-record=1.0.0.127.bl.test,"127.0.0.1 is listed in bl.test for testing" \
  --txt-record=inbox.test,"v=spf1 -all" --txt-record=exim.world.test,"v=spf1 -all" \
  --txt-record=chq.world.test,"v=spf1 -all" --txt-record=_dmarc.chq.world.test,"v=DMARC1; p=reject" \
  --txt-record=_dmarc.inbox.test,"v=DMARC1; p=reject" \
  --txt-record=_dmarc.exim.world.test,"v=DMARC1; p=reject" \
  --pid-file="$R/dnsmasq.pid" --log-facility="$R/dnsmasq.log"
printf 'nameserver 127.0.0.78\n' > "$R/resolv.conf"
if ! unshare --mount --propagation private bash -c '
  mount --bind "$1/resolv.conf" /etc/resolv.conf
  opendmarc -c "$1/etc/opendmarc.conf" </dev/null
  exec postfix -c "$1/etc" start </dev/null' _ "$R" >"$R/stdout.log" 2>&1; then
  stop_dns
  cat "$R/stdout.log" >&2
  exit 1
fi
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/12547) 2>/dev/null && exit 0
  sleep 0.1
done
echo "the second Postfix instance did not listen on :12547" >&2
cat "$R/stdout.log" "$R/maillog" >&2 2>/dev/null || true
postfix -c "$R/etc" stop >/dev/null 2>&1 || true
stop_dns
exit 1
