#!/usr/bin/env bash
# Collect real SMTP/LMTP replies for the classifier's single-reply check set: swaks talks to the
# recipient world's Postfix MX, its refusing next hops, its submission service and Dovecot's
# LMTP, each set up to refuse for one cause; the refusal's text is saved as it was answered. The
# cause is known by construction: it is the label.
#   usage: scripts/world/replies.sh OUT_DIR    (the world must be up: scripts/world/start.sh)
# Writes OUT_DIR/world__<case>.txt and prints one manifest line per file (file, reason, hard/soft).
set -euo pipefail
out=${1:?usage: replies.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
mkdir -p "$out"
# The first refusal swaks reports ("<** 550 …", continuation lines joined).
# (swaks marks a refusal "<**", and a refused AUTH "<*"; "~" when the session is in TLS.)
refusal() { swaks "$@" 2>&1 | grep -E '^<~?\*{1,2} ' | head -n 1 | sed -E 's/^<~?\*{1,2} //'; }
save() { # case reason hard/soft text
  if [ -z "$4" ]; then
    echo "no refusal for $1" >&2
    exit 1
  fi
  printf '%s\n' "$4" > "$out/world__$1.txt"
  printf 'world__%s.txt\t%s\t%s\n' "$1" "$2" "$3"
}
mx=(--server "127.0.0.1:$WORLD_MX_PORT" --from someone@sender.test --ehlo client.test)
save rcpt-unknown userunknown hard "$(refusal "${mx[@]}" --to ghost@inbox.test --quit-after RCPT)"
save lmtp-quota-full mailboxfull soft \
  "$(refusal --socket "$W/dovecot/lmtp.sock" --protocol LMTP --from someone@sender.test --to full@inbox.test)"
save client-rejected blocked soft \
  "$(refusal --server "127.0.0.1:$BLOCKED_PORT" --from someone@sender.test --to someone@blocked.test --quit-after RCPT)"
save relay-denied norelaying soft \
  "$(refusal --server "127.0.0.1:$NORELAY_PORT" --from someone@sender.test --to someone@norelay.test --quit-after RCPT)"
save starttls-required failedstarttls soft \
  "$(refusal --server "$WORLD_SUBMISSION" --from relay@world.test --to someone@inbox.test --quit-after MAIL)"
save auth-failed securityerror soft \
  "$(refusal --server "$WORLD_SUBMISSION" --tls --auth PLAIN --auth-user relay@world.test \
    --auth-password wrong --from relay@world.test --to someone@inbox.test)"
