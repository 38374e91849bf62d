#!/usr/bin/env bash
# A second Postfix instance beside the recipient world, for refusals the world's own services do
# not set up; the check-set collection scripts (replies.sh, the *-dsns.sh) start it and stop it.
#   usage: scripts/world/refusers.sh start|stop    (the world must be up for start)
# It takes the world's main.cf with a queue of its own, under $HERALD_WORLD/refusers, and listens
# (the world's own Postfix reaches :12541 and :12544 too, so they greet with names of their own:
# Postfix refuses a next hop that greets with its own name):
#   127.0.0.1:12541  check_sender_access rejects the domain sender.test and the senders the
#                    bounce-collection scripts use (dsn@inbox.test, dsn@exim.world.test): a
#                    sender refusal, returned to them as a bounce
#   127.0.0.1:12542  smtpd_client_connection_count_limit = 1
#   127.0.0.1:12543  smtpd_client_message_rate_limit = 1
#   127.0.0.1:12544  moved.test's users have moved (relocated_maps): 550 5.1.6 at RCPT TO
# scripts/world/stop.sh stops it too.
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
R=$W/refusers
case ${1:-} in
  stop)
    [ -f "$R/etc/main.cf" ] && postfix -c "$R/etc" stop </dev/null >/dev/null 2>&1
    exit 0
    ;;
  start) ;;
  *)
    echo "usage: refusers.sh start|stop" >&2
    exit 2
    ;;
esac
postfix -c "$R/etc" stop >/dev/null 2>&1 || true
rm -rf "$R" && mkdir -p "$R/etc" "$R/spool" "$R/data"
sed -e "s|^queue_directory = .*|queue_directory = $R/spool|" \
    -e "s|^data_directory = .*|data_directory = $R/data|" \
    -e "s|^maillog_file = .*|maillog_file = $R/maillog|" \
    -e "s|^virtual_mailbox_domains = \(.*\)|virtual_mailbox_domains = \\1, moved.test|" \
    "$W/postfix/etc/main.cf" > "$R/etc/main.cf"
# moved.test's users have moved (an address class is resolved by trivial-rewrite, which reads
# main.cf, so the domain and the table are the instance's own, not one service's -o).
printf 'relocated_maps = texthash:%s\n' "$R/etc/relocated" >> "$R/etc/main.cf"
printf '%s REJECT\n' sender.test dsn@inbox.test dsn@exim.world.test > "$R/etc/sender_access"
printf '@moved.test someone@elsewhere.test\n' > "$R/etc/relocated"
# The world's own master.cf recipe (no chroot, no pickup, no local delivery agents) minus its MX.
sed -e '/^smtp      inet/d' \
    -e 's/^\([a-z]*  *unix *[-n]  *[-n]  *\)y/\1n/' \
    -e '/^pickup/d' -e '/^maildrop/,$d' \
    /usr/share/postfix/master.cf.dist > "$R/etc/master.cf"
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
CONF
chown postfix "$R/data"
if ! postfix -c "$R/etc" start </dev/null >"$R/stdout.log" 2>&1; then
  cat "$R/stdout.log" >&2
  exit 1
fi
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/12544) 2>/dev/null && exit 0
  sleep 0.1
done
echo "the second Postfix instance did not listen on :12544" >&2
cat "$R/stdout.log" "$R/maillog" >&2 2>/dev/null || true
postfix -c "$R/etc" stop >/dev/null 2>&1 || true
exit 1
