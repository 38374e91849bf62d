# Shared by the scripts that collect real bounces for the classifier's check set (dsns.sh,
# exim-dsns.sh, sendmail-dsns.sh, opensmtpd-dsns.sh, dma-dsns.sh, courier-dsns.sh,
# nullmailer-dsns.sh, haraka-dsns.sh, chasquid-dsns.sh) and the receiving servers' scripts. Each case is "name|recipients|expected reasons|hard/soft|…"; a case's
# message carries "Subject: checkset <name>", which the returned original in its bounce still
# shows.

# The causes the recipient world sets up for any MTA (scripts/world/start.sh and refusers.sh
# route each domain), as case lines: name | recipients (comma-separated) | expected reasons (;) |
# hard/soft (;) | big body? Each script takes the ones its MTA can be made to report
# (world_cases) and adds its own.
declare -A WORLD_CASE=(
  [rcpt-unknown]="rcpt-unknown|ghost@inbox.test|userunknown|hard|"
  [size-limit]="size-limit|big@toobig.test|mesgtoobig|soft|big"
  [client-rejected]="client-rejected|someone@blocked.test|blocked|soft|"
  [relay-denied]="relay-denied|someone@norelay.test|norelaying|soft|"
  [retry-timeout]="retry-timeout|someone@slow.test|expired|soft|"
  [two-recipients]="two-recipients|ghost2@inbox.test,someone2@norelay.test|userunknown;norelaying|hard;soft|"
  [host-unknown]="host-unknown|someone@nowhere.test|hostunknown|hard|"
  [null-mx]="null-mx|someone@nullmx.test|notaccept|hard|"
  [user-moved]="user-moved|someone@moved.test|hasmoved|hard|"
  [sender-rejected]="sender-rejected|someone@refuse.test|rejected|soft|"
  # refusers.sh's blocklist and reverse-hostname checks (Postfix's own texts). (Its
  # sender-domain check cannot refuse these scripts' senders: their domains are the world's
  # own, which Postfix does not look up; replies.sh asks it directly.)
  [rbl-listed]="rbl-listed|someone@listed.test|blocked|soft|"
  [no-ptr]="no-ptr|someone@noptr.test|requireptr|soft|"
  # refusers.sh's SPF policy (the senders' domains publish "-all" to it) and rspamd as its
  # milter (the case's name puts "reject me" in the subject, over rspamd's reject threshold).
  [spf-fail]="spf-fail|someone@spf.test|authfailure|soft|"
  [spam-reject-me]="spam-reject-me|someone@spam.test|spamdetected|soft|"
  # Its OpenDMARC milter: the senders' domains publish p=reject; no DKIM, no SPF result.
  [dmarc-reject]="dmarc-reject|someone@dmarc.test|authfailure|soft|"
  # Its next hop that cannot resolve the recipient's domain (reject_unknown_recipient_domain).
  [rcpt-domain-unknown]="rcpt-domain-unknown|someone@nodomain.test|hostunknown|hard|"
  # A delay warning while slow.test refuses connections: the message is still queued, the
  # stated cause is the connection (Herald's reading; Sisimai's would be expired).
  [delay-warning]="delay-warning|someone@slow.test|networkerror|soft|"
)

# refuser_hops: the second Postfix instance's (scripts/world/refusers.sh) services the
# collection scripts route NAME.test to, one "NAME PORT" line each, for each script to write in
# its MTA's own routing syntax. (noptr.test, reached from 127.0.0.9, each routes itself.)
refuser_hops() {
  printf '%s\n' 'refuse 12541' 'moved 12544' 'listed 12545' 'spf 12548' 'spam 12549' \
    'dmarc 12540' 'nodomain 12539'
}

# world_cases NAME…: append the world's cases of those names to the array `cases`.
world_cases() {
  local name
  for name in "$@"; do
    if [ -z "${WORLD_CASE[$name]:-}" ]; then
      echo "no world case $name" >&2
      return 1
    fi
    cases+=("${WORLD_CASE[$name]}")
  done
}

# body_of SIZE: a case's body: 30 KB of text (over the next hop's 8 KB limit) when SIZE, its
# fifth field, is "big", else "hello".
body_of() {
  if [ "$1" = big ]; then head -c 30000 /dev/zero | tr '\0' 'x' | fold -w 76; else echo hello; fi
}

# submit SENDER COMMAND CASE…: pipe each case's message to COMMAND -f SENDER <recipients> — an
# MTA's command-line submission.
submit() {
  local sender=$1 command=$2 c name rcpts size
  shift 2
  for c in "$@"; do
    IFS='|' read -r name rcpts _ _ size <<<"$c"
    # shellcheck disable=SC2086 # one argument per recipient
    printf 'From: %s\nTo: %s\nSubject: checkset %s\n\n%s\n' "$sender" "$rcpts" "$name" "$(body_of "$size")" |
      "$command" -odi -f "$sender" ${rcpts//,/ } || true
  done
}

# submit_smtp SENDER CASE… -- SWAKS_OPTION…: send each case's message over SMTP with swaks and
# the options given (server, TLS, AUTH).
submit_smtp() {
  local sender=$1 c name rcpts size cases=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cases+=("$1"); shift; done
  shift
  for c in "${cases[@]}"; do
    IFS='|' read -r name rcpts _ _ size <<<"$c"
    swaks "$@" --from "$sender" --to "$rcpts" --header "Subject: checkset $name" \
      --body "$(body_of "$size")" >/dev/null
  done
}

# wait_for_port PORT LOG: wait (up to 20 s) until something listens on 127.0.0.1:PORT; if
# nothing does, print LOG (the MTA's output) and fail.
wait_for_port() {
  local port=$1 log=$2
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  cat "$log" >&2 2>/dev/null || true
  return 1
}

# dsn_box WORLD: the world's dsn@inbox.test Maildir, emptied, and owned by mail (Dovecot
# delivers as mail: a Maildir a script made as root would refuse it); prints its new/.
dsn_box() {
  local box=$1/mail/inbox.test/dsn/Maildir/new
  mkdir -p "$box"
  chown -R mail:mail "$1/mail/inbox.test/dsn"
  rm -f "$box"/* 2>/dev/null || true
  printf '%s\n' "$box"
}

# wait_for_bounces BOX COUNT SECONDS [COMMAND…]: wait until BOX holds COUNT messages, running
# COMMAND (a queue run) every second meanwhile.
wait_for_bounces() {
  local box=$1 count=$2 seconds=$3
  shift 3
  for _ in $(seq 1 "$seconds"); do
    [ "$(ls "$box" 2>/dev/null | wc -l)" -ge "$count" ] && return 0
    [ $# -gt 0 ] && { "$@" >/dev/null 2>&1 || true; }
    sleep 1
  done
}

# report_for BOX NAME: the report in BOX about case NAME's message: a delay warning ("Action:
# delayed") for a delay-* case, the final report for any other (its message may have been
# warned about first).
report_for() {
  local f
  for f in $(grep -l "checkset $2\$" "$1"/* 2>/dev/null); do
    if grep -qi '^Action: *delayed' "$f"; then
      [[ $2 == delay-* ]] && { printf '%s\n' "$f"; return 0; }
    else
      [[ $2 != delay-* ]] && { printf '%s\n' "$f"; return 0; }
    fi
  done
  return 1
}

# wait_for_reports BOX SECONDS [COMMAND…]: wait until BOX holds a report for every case in
# `cases` (see report_for), running COMMAND (a queue run) every second meanwhile.
wait_for_reports() {
  local box=$1 seconds=$2 c name missing
  shift 2
  for _ in $(seq 1 "$seconds"); do
    missing=0
    for c in "${cases[@]}"; do
      IFS='|' read -r name _ <<<"$c"
      report_for "$box" "$name" >/dev/null || { missing=1; break; }
    done
    [ "$missing" = 0 ] && return 0
    [ $# -gt 0 ] && { "$@" >/dev/null 2>&1 || true; }
    sleep 1
  done
}

# collect PREFIX BOX OUT_DIR CASE…: copy each case's bounce to OUT_DIR/PREFIX__<name>.eml and
# print its manifest line (file, expected reasons, hard/soft).
collect() {
  local prefix=$1 box=$2 out=$3 c name reasons hardsoft f
  shift 3
  mkdir -p "$out"
  for c in "$@"; do
    IFS='|' read -r name _ reasons hardsoft _ <<<"$c"
    f=$(report_for "$box" "$name" || true)
    if [ -z "$f" ]; then
      echo "no bounce for $name in $box" >&2
      return 1
    fi
    cp "$f" "$out/${prefix}__$name.eml"
    printf '%s__%s.eml\t%s\t%s\n' "$prefix" "$name" "$reasons" "$hardsoft"
  done
}

# unpack ROOT BINARY PACKAGE…: unless ROOT/BINARY exists, download Debian's PACKAGEs and unpack
# them into ROOT with dpkg -x (they conflict with Postfix, so they are never installed).
unpack() {
  local root=$1 binary=$2 tmp deb
  shift 2
  [ -x "$root/$binary" ] && return 0
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q "$@" >/dev/null 2>&1)
  mkdir -p "$root"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$root"; done
  rm -rf "$tmp"
}

# own_resolver DIR: a resolver of the script's own for an unknown domain: dnsmasq on
# 127.0.0.77:53 answering NXDOMAIN for every .test name but nullmx.test, and DIR/resolv.conf naming it, for an
# MTA run in a mount namespace with that file bound over /etc/resolv.conf. stop_resolver DIR
# stops it.
own_resolver() {
  # nullmx.test publishes a null MX (RFC 7505): it accepts no mail.
  dnsmasq --port=53 --listen-address=127.0.0.77 --bind-interfaces --no-resolv --no-hosts \
    --local=/test/ --mx-host=nullmx.test,.,0 \
    --pid-file="$1/dnsmasq.pid" --log-facility="$1/dnsmasq.log"
  printf 'nameserver 127.0.0.77\n' > "$1/resolv.conf"
}
stop_resolver() {
  stop_pidfiles dnsmasq "$1/dnsmasq.pid"
}

# exim_unpacked PKG: Debian's Exim (exim4-daemon-light) unpacked under PKG, with its user.
exim_unpacked() {
  if [ ! -x "$1/usr/sbin/exim4" ]; then
    # libidn12 is Exim's one library a bare Debian lacks; it does not conflict with Postfix.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libidn12 >/dev/null
  fi
  unpack "$1" usr/sbin/exim4 exim4-daemon-light
  id Debian-exim >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin Debian-exim
}

# sendmail_unpacked PKG: Debian's Sendmail (sendmail-bin, sendmail-cf) unpacked under PKG, and m4.
sendmail_unpacked() {
  unpack "$1" usr/libexec/sendmail/sendmail sendmail-bin sendmail-cf
  command -v m4 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q m4 >/dev/null
}

# sendmail_dir DIR: DIR made afresh for one Sendmail (queues, aliases, statistics, service
# switch; Sendmail refuses maps under a world-writable directory), and the mc lines naming
# them and its pid file printed, for the mc to include.
sendmail_dir() {
  local d=$1 q="'"
  rm -rf "$d"
  mkdir -p "$d/queue" "$d/mqueue"
  chmod 700 "$d" "$d/queue" "$d/mqueue"
  printf 'hosts files dns\naliases files\n' > "$d/service.switch"
  printf 'postmaster: root\n' > "$d/aliases"
  : > "$d/statistics"
  cat <<MC
define(\`QUEUE_DIR$q, \`$d/queue$q)dnl
define(\`MSP_QUEUE_DIR$q, \`$d/mqueue$q)dnl
define(\`ALIAS_FILE$q, \`$d/aliases$q)dnl
define(\`STATUS_FILE$q, \`$d/statistics$q)dnl
define(\`confPID_FILE$q, \`$d/sendmail.pid$q)dnl
define(\`confSERVICE_SWITCH_FILE$q, \`$d/service.switch$q)dnl
MC
}

# haraka_installed PKG: Haraka 3.3.4 from the npm registry, under PKG (with its stock plugins).
haraka_installed() {
  [ -x "$1/node_modules/.bin/haraka" ] && return 0
  command -v npm >/dev/null || apt-get install -y -q nodejs npm >/dev/null
  mkdir -p "$1"
  (cd "$1" && npm install --no-audit --no-fund --silent Haraka@3.3.4 >/dev/null)
}

# chasquid_unpacked PKG: Debian's chasquid 1.11 unpacked under PKG (its package and Postfix's
# exclude each other).
chasquid_unpacked() {
  unpack "$1" usr/bin/chasquid chasquid
}

# chasquid_config DIR DOMAIN SMTP_PORT SUBMISSION_PORT: a configuration directory DIR/conf
# for a chasquid serving DOMAIN (as mx.DOMAIN) on 127.0.0.1's SMTP_PORT and SUBMISSION_PORT,
# with its data in DIR/data, its mail log in DIR/mail.log, a self-signed certificate (chasquid
# will not start without one) and a delivery agent that files each local message in DIR/box.
chasquid_config() {
  local dir=$1 domain=$2 smtp=$3 submission=$4
  rm -rf "$dir"
  mkdir -p "$dir/conf/certs/$domain" "$dir/conf/domains/$domain" "$dir/data" "$dir/box" "$dir/tmp"
  cat > "$dir/conf/chasquid.conf" <<CONF
hostname: "mx.$domain"
smtp_address: "127.0.0.1:$smtp"
submission_address: "127.0.0.1:$submission"
mail_delivery_agent_bin: "$dir/mda"
mail_delivery_agent_args: "%to%"
data_dir: "$dir/data"
mail_log_path: "$dir/mail.log"
CONF
  # (Written aside, then renamed into the box: a reader never sees half a message.)
  printf '#!/bin/sh\nf="$(date +%%s%%N)-$$"\ncat > "%s/tmp/$f" && mv "%s/tmp/$f" "%s/box/$f.eml"\n' \
    "$dir" "$dir" "$dir" > "$dir/mda"
  chmod +x "$dir/mda"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.$domain" \
    -keyout "$dir/conf/certs/$domain/privkey.pem" \
    -out "$dir/conf/certs/$domain/fullchain.pem" 2>/dev/null
}

# stop_pidfiles PATTERN PIDFILE…: stop the process each pid file names while its command line
# still matches PATTERN (not a later process that was given the same pid), and remove the file.
stop_pidfiles() {
  local pattern=$1 pidfile pid
  shift
  for pidfile in "$@"; do
    [ -f "$pidfile" ] || continue
    pid=$(head -n 1 "$pidfile")
    if [ -n "$pid" ] && grep -qE "$pattern" "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" || true
      # Gone (or a zombie, whose command line is empty) before its port is wanted again.
      for _ in $(seq 1 50); do
        grep -qE "$pattern" "/proc/$pid/cmdline" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -f "$pidfile"
  done
}

# needs_refusers NAME: fail unless scripts/world/refusers.sh has been started: a receiving
# server that resolves through its name server cannot start before it.
needs_refusers() {
  if [ ! -f "$W/refusers/resolv.conf" ]; then
    echo "$1: start scripts/world/refusers.sh first (its name server)" >&2
    exit 1
  fi
}

# receiver_verb NAME ARG: a receiving server's start|stop argument: `stop` calls the script's
# own stop and exits, `start` returns, anything else is a usage error.
receiver_verb() {
  case $2 in
    stop)
      stop
      exit 0
      ;;
    start) ;;
    *)
      echo "usage: $1 start|stop" >&2
      exit 2
      ;;
  esac
}
