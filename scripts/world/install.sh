#!/usr/bin/env bash
# Install the recipient world's packages (Debian 12): Postfix, Dovecot, dnsmasq and tools (swaks with
# TLS for scripts/world/dsns.sh), and
# headless Chromium with Selenium for the browser test.
# Idempotent; does not start any stock daemon (a temporary policy-rc.d refuses it).
set -euo pipefail
need=()
for pair in python3-dkim:/usr/lib/python3/dist-packages/dkim python3-nacl:/usr/lib/python3/dist-packages/nacl postfix:/usr/sbin/postfix dovecot-imapd:/usr/sbin/dovecot dovecot-lmtpd:/usr/lib/dovecot/lmtp dovecot-sieve:/usr/bin/sievec \
            dnsmasq-base:/usr/sbin/dnsmasq rspamd:/usr/bin/rspamd bind9-dnsutils:/usr/bin/dig openssl:/usr/bin/openssl swaks:/usr/bin/swaks libnet-ssleay-perl:/usr/lib/x86_64-linux-gnu/perl5/5.36/Net/SSLeay.pm \
            chromium:/usr/bin/chromium chromium-driver:/usr/bin/chromedriver python3-selenium:/usr/lib/python3/dist-packages/selenium; do
  [ -e "${pair#*:}" ] || need+=("${pair%%:*}")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
