//! What each reason sounds like: the specific statements receivers and MTAs make for one
//! reason (lower case), read by the reason probes in [`super::reasons`].
//!
//! Unlike the broad words of `phrases.rs` (the last resort, first match wins), a statement here
//! is asked about one reason at a time ("does this text say the mailbox is full?"), in the order
//! the decision needs: a status code that names a reason is checked against the statements of
//! the reasons that would contradict it, and a stage decides between reasons that share words.
//! The wordings are what real MTAs and providers write (their documentation, RFC 3463, and the
//! public bounce collections credited in `testdata/corpora/LICENSES`); they are plain data so a
//! new receiver's wording is one line.

use herald_domain::BounceReason;

use super::reasons::contains_phrase;

/// Statements, per reason. A reason may appear more than once; all of its lists count.
const STATEMENTS: &[(BounceReason, &[&str])] = &[
    (
        BounceReason::MailboxFull,
        &[
            "full mailbox",
            // vmailmgr's quota.
            "system quota violation",
            "mailbox full",
            "mailbox is full",
            "mailbox size limit exceeded",
            "mailbox has exceeded",
            "mailbox exceeds",
            "mailbox quota",
            "mailfolder is full",
            "mail box full",
            "quota violation for",
            "no space left on device",
            "too much mail data",
            "452 insufficient disk space",
            "disk quota",
            "over quota",
            "overquota",
            "over the quota",
            "over its quota",
            "quota exceeded",
            "quota exceed",
            "account is full",
            "account is over",
            "user is over",
            "recipient is over",
            "inbox is full",
            "inbox is out of storage space",
            "exceeded storage allocation",
            "has exceeded its storage",
            "exceeded the storage",
            "would exceed mailbox",
            "mailbox not enough space",
            "not enough storage space",
            "insufficient storage",
            "maildir over quota",
            "mail quota",
            "mailbox over",
            "too many messages on the server",
        ],
    ),
    (
        BounceReason::MesgTooBig,
        &[
            "message too big",
            "message file too big",
            "message size exceeds fixed maximum message size",
            "message size exceeds",
            "max message size exceeded",
            "message too large for this ",
            "message is too large",
            "message is too big",
            "message is too long",
            "message length exceeds",
            "exceeds the maximum size",
            "exceeded the maximum message size",
            "exceeds size limit",
            "mail size limit",
            "message size limit",
            "size limit exceeded",
            "size limit",
            "larger than the maximum",
        ],
    ),
    (
        BounceReason::ExceedLimit,
        &[
            "message header size exceeds limit",
            "message too large",
            "message exceeds local size limit",
            "header size",
            "headers size",
            "header is too large",
            "too many headers",
        ],
    ),
    (
        BounceReason::Suspend,
        &[
            " is currently suspended",
            "bloccato per inutilizzo",
            "compte du destinataire est bloqu",
            "the recipient account is blocked",
            "en estado: inactivo",
            "zablokowane administracyjnie lub nieaktywne",
            "has been suspended",
            "mailbox disabled",
            "mailbox is disabled",
            "mailbox is inactive",
            "mailbox suspended",
            "mailbox is frozen",
            "inactive account",
            "account inactive",
            "account is inactive",
            "account disabled",
            "account is disabled",
            "account is temporarily limited",
            "suspended user",
            "inactive mbox",
            // Yandex's documented refusal of a blocked mailbox; i.ua's mailbox unused for months.
            "policy rejection on the target address",
            "was not used for more than",
            "account suspended",
            "account has been locked",
            "account is locked",
            "account closed",
            "account deleted",
            "temporarily locked",
            "temporary locked",
            "this mailbox is disabled",
            "mailbox unavailable or access denied",
            "this address no longer accepts mail",
            "user suspended",
            "recipient suspend",
            "recipient suspended",
            "suspended mailbox",
            "disabled recipient",
            "is not an active",
            "no longer active",
            "deactivated",
            "has been terminated",
            // A mailbox closed (or "blocked") for lack of use; not a session closed "due to
            // inactivity" (an idle timeout).
            "blocked due to inactivity",
            "disabled due to inactivity",
            "disabled because of inactivity",
            "email account that you tried to reach is disabled",
            "email account that you tried to reach is inactive",
            "administrativly disabled",
            "administratively disabled",
        ],
    ),
    (
        BounceReason::HasMoved,
        &[
            " has been replaced by ",
            "mailbox has moved",
            "user has moved",
            "recipient has moved",
            "no longer at this address",
            "address has changed",
            "changed e-mail address",
            "please use the new address",
            "recipient no longer on server",
        ],
    ),
    (
        BounceReason::NoRelaying,
        &[
            "relay access denied",
            // Haraka, when no plugin accepted the recipient as local or for relay.
            "i cannot deliver mail for",
            "relaying denied",
            "relay denied",
            "relay not permitted",
            "relaying not permitted",
            "relaying not allowed",
            // chasquid, to a client that did not authenticate.
            "relay not allowed",
            "relaying mail to",
            "relay prohibited",
            "relay operation rejected",
            "no relaying",
            "unable to relay",
            "not permitted to relay",
            "not allowed to relay",
            "not configured to relay",
            "we do not relay",
            "cannot relay",
            "can't relay",
            "as a relay",
            "insecure mail relay",
            "not an open relay",
            "we don't handle mail for",
            "isn't in my list of allowed rcpthosts",
            "is not a local domain",
            "not a gateway",
            "credentials for relay",
            "mail relay denied",
            "email address is not verified",
        ],
    ),
    (
        BounceReason::AuthFailure,
        &[
            "dmarc policy",
            // Proofpoint's, Cisco's and MailChannels' words for an SPF failure.
            "sender's spf policy",
            "spf unauthorized",
            "prohibited by spf",
            "spf check: fail",
            "spf check failed",
            "dmarc verification failed",
            "verification dmarc",
            "spf fail",
            "blocked by spf",
            "dkim check failed",
            "dmarc check failed",
            "sender policy framework violation",
            "doesn't meet the required authentication level",
            "does not pass dmarc verification",
            "authenticate with either spf or dkim",
            "authenticate with spf",
            "authenticate their email with",
            "authenticate with dkim",
            "fails to pass spf",
            "fails to pass authentication checks",
            "spf record with a hard fail",
            // Exim's and libspf2's SPF refusal: "[IP] is not allowed to send mail from <domain>".
            "is not allowed to send mail from",
            "isn't aligned",
            "is not aligned",
            "not aligned with",
            "domain authentication fail",
            "spf sender invalid",
            "dkim sender invalid",
            "dmarc sender invalid",
            "s dmarc policy",
            "failing both spf and dkim",
            "unauthenticated email",
            "spf validation",
            "dkim validation",
            "must pass either spf or dkim",
        ],
    ),
    (
        BounceReason::UserUnknown,
        &[
            "#5.1.1 bad address",
            // Exchange's NDR text for the sender; hMailServer's route without the address;
            // Italian, Spanish, Polish and Chinese servers' own wordings.
            "address you entered couldn't be found",
            // Exim's reading of a delivery program's exit code 67 (EX_NOUSER): "Child process of
            // … transport returned 67 (could mean user nonexistent) …".
            "could mean user nonexistent",
            // Exchange Online's NDR ("jane wasn't found at example.com."), Domino in French.
            "wasn't found at ",
            "non répertorié dans l'annuaire",
            "address you entered could not be found",
            "recipient not in route list",
            "invalid final delivery userid",
            "destin. sconosciuto",
            "destinatario errato",
            "indirizzo inesistente",
            "no tiene una cuenta en este servidor",
            "nie ma takiego konta",
            "收件人不存在",
            "550 address invalid",
            "address does not exist",
            "address not present in directory",
            "address unknown",
            "addressee unknown",
            "can't accept user",
            "destination addresses were unknown",
            "destination server rejected recipients",
            "email address does not exist",
            "email address could not be found",
            "e-mail address was not found",
            "invalid address",
            "invalid mailbox",
            "invalid recipient",
            "invalid user",
            "is not a known user",
            "is not a valid mailbox",
            "is not a valid user",
            "is not an active address at this host",
            "mailbox does not exist",
            "mailbox invalid",
            "mailbox is unavailable",
            // EarthLink's answer at RCPT TO.
            "user account is unavailable",
            "mailbox not present",
            "mailbox not found",
            "mailbox not exist",
            "mailbox unavailable",
            "no account by that name",
            "no mail box available for this user",
            "no mailbox by that name",
            "no mailbox here by that name",
            "no mailbox found",
            "no such address",
            "no such mailbox",
            "no such person",
            "no such recipient",
            "no such user",
            "no such account",
            "no valid recipients",
            "not a valid recipient",
            "not a valid user",
            "not a local address",
            "recipient address rejected: access denied",
            "recipient address rejected: invalid user",
            "recipient address rejected: invalid-recipient",
            "recipient address rejected: unknown user",
            "recipient address rejected: userunknown",
            "recipient address rejected: user unknown",
            "recipient does not exist",
            "recipient is not accepted",
            "recipient is not local",
            "recipient not exist",
            "recipient not found",
            "recipient not ok",
            "recipient refuses to accept your mail",
            "recipient unknown",
            "requested action not taken: mailbox unavailable",
            "resolver.adr.recipnotfound",
            "resolver.adr.recipientnotfound",
            "resolver.adr.exrecipnotfound",
            "sorry, user unknown",
            "sorry, badrcptto",
            "your envelope recipient has been denied",
            "the email account that you tried to reach does not exist",
            "the following recipients was undeliverable",
            "email name is not found",
            "there is no one at this address",
            "this email address is wrong or no longer valid",
            "in my badrecipientto list",
            "is not in my validrcptto list",
            "in my badrcptto list",
            "unknown mailbox",
            "unknown recipient",
            "unknown user",
            "unknown address",
            "unknown local part",
            "user does not exist",
            "user doesn't exist",
            "user missing home directory",
            "user not active",
            "user not exist",
            "user not found",
            "user is not found",
            // Localised notices (docs/research/languages-wordings.md): Exchange's German, Gmail's
            // Spanish, Domino's Spanish, a Japanese ISP's, Chinese hosts'.
            "e-mail-adresse konnte nicht gefunden werden",
            "no se encontraba en el dominio de destino",
            "no se encuentra en el directorio de domino",
            "のユーザーは登録されていません",
            "该用户不存在",
            "未开通qq邮箱",
            "未开通邮箱",
            "user not known",
            "user unknown",
            "user is unknown",
            "utilisateur inconnu",
            "nessun utente simile",
            "no existe dicha persona",
            "no existe ese usuario",
            "invalid or unknown virtual user",
            "adresse nicht gefunden",
            "in virtual mailbox table",
            "in local recipient table",
            "in relay recipient table",
            "account does not exist",
            "account that you tried to reach does not exist",
            "doesn't have an account",
            // CCSO Ph's phquery (a Sendmail add-on): no mailbox behind the name.
            "does not have a final email delivery point",
            "does not have an account",
            "not listed in domino directory",
            "nicht im domino-verzeichnis",
            "not listed in public name & address book",
            "no longer valid",
            "nonexistent user",
            "non-existent user",
            "recipient name is not recognized",
            "address couldn't be found",
            "address could not be found",
            "address not found",
            "bad destination mailbox",
            "unknown or illegal alias",
            "inactive email address",
        ],
    ),
    (
        BounceReason::Filtered,
        &[
            // The recipient refuses this sender (Interia's documented reply).
            "doesn't want your mail",
            "does not want your mail",
            "account is protected by",
            "bounced address",
            "has restricted sms e-mail",
            "is not accepting any mail",
            "message filtered",
            "has been filtered",
            "message rejected due to user rules",
            "not found recipient account",
            "refuse to receive mail",
            "is only accepting mail from specific email addresses",
            "due to recipient preferences",
            "recipient preferences",
            "user refuses to receive",
            "user reject",
            "blocked by the recipient",
            "user not found",
            // AOL: the recipient's own setting.
            "not accepting mail with attachments or embedded images",
        ],
    ),
    (
        BounceReason::RequirePtr,
        &[
            "cannot find your hostname",
            "cannot find your reverse hostname",
            "cannot resolve your address",
            "reverse dns",
            "reverse lookup",
            "reverse-lookup",
            "no ptr record",
            "ptr record",
            "missing ptr",
            "ip name lookup failed",
            "hostname does not resolve",
            "your ip address has no hostname",
            "did not reverse-resolve",
            "no reverse",
            "unresolvable address",
            "not resolve your",
            "no valid hostname",
            "unverifiable sending ip",
            "unverifyable sending ip",
            "rdns",
            "rfc1912",
        ],
    ),
    (
        BounceReason::NotCompliantRfc,
        &[
            "duplicate header",
            "not rfc 5322 compliant",
            "is not rfc 5322",
            "rfc 5322 compliant",
            // Exchange Online's 5.7.512: "message must be RFC 5322 section 3.6.2 compliant".
            "section 3.6.2 compliant",
            "rfcmessagenoncompliant",
            "valid rfc 5321",
            "headers are not rfc compliant",
            "duplicated message-id",
            "mail message is malformed",
            "missing a valid message-id",
            "missing a valid address in the from: header",
        ],
    ),
    (
        BounceReason::BadReputation,
        &[
            "poor email reputation",
            "rate limited due to ip reputation",
            "reputation problems",
            "low reputation",
            "poor reputation",
            "bad reputation",
            "reputation of the sending",
            "ip reputation",
            "domain reputation",
            // Cisco's SenderBase Reputation Score (IronPort appliances, Amazon's gateways).
            "sbrs score",
            "senderbase reputation",
            "temporarily deferred due to unexpected volume or user complaints",
        ],
    ),
    (
        BounceReason::ContentError,
        &[
            "header size exceeds maximum permitted",
            "improper use of 8-bit data in message header",
            "too many received: headers",
            "too many \"received\" headers",
            "mime complexity exceeds",
            "message contains invalid header",
            "message header is not",
            "stray linefeeds in message",
            "invalid characters",
            "invalid message content",
        ],
    ),
    (
        BounceReason::Rejected,
        &[
            "address rejected",
            "sender rejected",
            // qmail-remote's own "Connected to … but sender was rejected."
            "sender was rejected",
            "sender address rejected",
            "sender verify failed",
            "sender verification failed",
            "invalid sender",
            "domain of sender address ",
            "null sender is not allowed",
            "sender is in my black list",
            "mail from not owned by user",
            "batv failed to verify",
            "batv validation failure",
            "sender not pre-approved",
            "sender is spammer",
            "sender domain",
            "envelope blocked",
            "envelope rejected",
            "permission to post",
            "not allowed to post",
            "your domain has been blocked",
            "your email address has been blocked",
            "badmailfrom list",
            "has been blacklisted",
            "sender account is disabled",
            "unknown sender",
            "sender denied",
            "sender was not authenticated",
            "sending denied",
            "sender address has null mx",
            "sender address does not exist",
            "sender does not exist",
            "sending address not accepted",
            // Haraka's mail_from.is_resolvable: "No MX for your FROM address".
            "your from address",
            // Sendmail's check_mail: "Domain name required for sender address …".
            "required for sender address",
            // qmail's badmailfrom and its patches: "your envelope sender has been denied".
            "your envelope sender",
            // maddy: "Domain in MAIL FROM does not have any MX records", "… has null MX record".
            "domain in mail from",
            "use of sender address",
            // Stalwart: "You are not allowed to send from this address."
            "not allowed to send from this address",
            // GoDaddy's sender bounces ("From: Domain is invalid. Provide a valid From:").
            "provide a valid from",
            // Yahoo: "… due to unresolvable RFC.5321 from domain."
            "rfc.5321 from domain",
            // chkuser: "sender address has invalid format".
            "sender address has invalid",
        ],
    ),
    (
        BounceReason::HostUnknown,
        &[
            "domain does not exist",
            "domain is not reachable",
            "domain must exist",
            "domain mentioned in email address is unknown",
            "host or domain name not found",
            "host unknown",
            "unknown host",
            "host not found",
            "name or service not known",
            "no such domain",
            "unknown domain name",
            "domain may not exist",
            "domain name not found",
            // ("Unrouteable address" is not here: from a receiving server at RCPT TO it is an
            // unknown user, from Exim's own bounce a domain it found no route to; see the
            // probes in reasons.rs.)
            "couldn't find any host",
            "dns server returned answer with no data",
            "illegal host/domain name found",
            "responded with code nxdomain",
            "all relevant mx records point to non-existent hosts",
            "all host address lookups failed permanently",
            // hMailServer's: "No mail servers appear to exists for the recipient's address."
            "no mail servers appear to exist",
            // Exchange 2003's NDR for #5.4.0.
            "could not be found in domain name service",
        ],
    ),
    (
        BounceReason::SpamDetected,
        &[
            "spam detected",
            "spam not accepted",
            "spam body",
            "spam message rejected",
            // A link or a domain in the message on a URI list (SURBL, URIBL, Spamhaus's DBL
            // for content): the message, not the client.
            "rejected by surbl",
            "listed in multi.surbl.org",
            "domain present in the spamhaus dbl",
            "message content rejected",
            "content rejected",
            "message filtered",
            "probable spam",
            "blocked by spamassassin",
            "detected that this message is",
            "likely unsolicited",
            "spam score",
            "message rejected for policy reasons",
            "rejected due to spam",
            "rejected as spam",
            "rejected for spam",
            "classified as spam",
            "looks like spam",
            "identified as spam",
            "judged to be spam",
            "considered spam",
            "spam message",
            "spam content",
            "junk mail",
            "score too high",
            "rejected by the content filter",
            "content filter",
            "high probability of spam",
            "spam filter",
            "spam block",
            "flagged as spam",
            "spam is embedded",
            "mail content denied",
            "message refused",
            "spam rejection",
            "appears to be spam",
            "appears to be unsolicited",
            "identified spam",
            "thinks this email is spam",
            "similar to spam",
            "antispam checks",
            "suspicion of spam",
            "suspected spam message",
            "suspected of being spam",
            "suspected to be spam",
        ],
    ),
    (
        BounceReason::Speeding,
        &[
            "please try again slower",
            "receiving mail at a rate that prevents",
            "receiving mail too quickly",
            "rate limited",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "too quickly",
            "too fast",
            "too much mail from",
            "throttl",
            "sending rate",
            "slow down",
            "exceeded the rate",
            "recipients this hour",
            "excessive volume",
        ],
    ),
    (
        BounceReason::TooManyConn,
        &[
            "connection rate limit exceeded",
            "too many recipients",
            "too many smtp sessions",
            "too many sessions",
            "max emails per hour",
            "trop de connexions",
            "too many concurrent",
            "too many simultaneous",
            "connection limit",
            "concurrent connections",
            "maximum number of connections",
            "max message per connection",
            "connection frequency",
            "frequency limited",
            "too many messages",
        ],
    ),
    (
        BounceReason::Blocked,
        &[
            " said: 550 blocked",
            "spamcop.net/bl",
            "bad sender ip address",
            "banned sending ip",
            // Road Runner's: "554 5.7.1 - ERROR: Mail Refused - <ip> - See
            // http://security.rr.com/…" (its block lookup and blocks pages).
            "security.rr.com/",
            "blacklisted by",
            "blocked using ",
            "blocked - see http",
            "dnsbl",
            "rbl restriction",
            "client host rejected",
            "client host blocked",
            "confirm this mail server",
            "connection dropped",
            "connection refused by",
            "connection reset by peer",
            "connection was dropped by remote host",
            "spamhaus",
            "dynamic/zombied/spam ips blocked",
            "no valid recipients from ",
            "esmtp not accepting connections",
            "not accepting connections",
            "bad ip profile",
            "go away",
            "helo command rejected",
            "host network not allowed",
            "dynamic ip",
            "invalid ip for sending mail",
            "is in a black list",
            "is not allowed to send mail from",
            "no access from mail server",
            "no matches to nameserver query",
            "not currently accepting mail from your ip",
            "part of their network is on our block list",
            "please use the smtp server of your isp",
            "refused - see http",
            "multi-blacklist",
            "rejecting open proxy",
            "sender ip address rejected",
            "server access forbidden by your ip",
            "service not available, closing transmission channel",
            "after initial connection",
            "looks suspiciously like spammer",
            "temporarily deferred due to unexpected volume or user complaints",
            "to submit messages to this e-mail system has been rejected",
            "too many spams from your ip",
            "unwanted messages have been sent from the following ip",
            "was blocked by ",
            "do not accept mail from dynamic",
            "you are not allowed to connect",
            "you are sending spam",
            "your ip address is listed",
            "your network is temporary blacklisted",
            "your server requires confirmation",
            "listed in the rbl",
            "blocklist",
            "blacklist",
            "block list",
            "black list",
            "barracudacentral",
            "sorbs",
            "access denied, banned",
            "access denied, please try again later",
            "access denied, bad helo",
            "using customer block list",
            "an unusual rate of",
            "ip not in whitelist",
            "is blocked",
            "has been blocked",
            "connection not authorized",
            "ip blocked",
            "blocked ip",
            "rejected based on blacklist",
            "service refused, please try later",
            "greylisted",
            "traffic not accepted from this ip",
            "bl.spamcop.net",
        ],
    ),
    (
        BounceReason::VirusDetected,
        &[
            "virus detected",
            "infected with a virus",
            "contains a virus",
            "virus e-mail",
            "virus email",
            "prohibited virus",
            "virus found",
            "potentially executable attachment",
            "malware",
            "the message contains a dangerous",
        ],
    ),
    (
        BounceReason::PolicyViolation,
        &[
            "an illegal attachment on your message",
            "is not accepting mail with ",
            "non-member to a members-only list",
            "closed mailing list",
            "denied by policy",
            // Gmail's 5.7.1 for a Workspace admin's rule: "… has a policy that prohibits the
            // email that you sent."
            "has a policy that prohibits",
            "not accepted for policy reasons",
            "header are not accepted",
            "header error",
            "local policy violation",
            "due to organizational settings",
            "message given low priority",
            "rejected due to local policy",
            "due to local policy",
            "messages with multiple addresses",
            "rejected for policy reasons",
            "protocol violation",
            "is not subscribed to this group",
            "rejected by organization policy",
            "its content presents a potential",
            "do not accept messages containing",
            "using a mass mailer",
            "illegal attachment",
            "unacceptable attachment",
            "forbidden attachment",
            "prohibited attachment",
            "attachment name extension",
            "anti-spoofing policy",
            "content examination policy",
            "has a policy that prohibited",
            "email rejected due to security policies",
        ],
    ),
    (
        BounceReason::SystemError,
        &[
            "local configuration error",
            "rbl lookup error",
            "dnsbl lookup error",
            "dns error on ",
            "dns error during",
            // Postfix's failed lookup of one of its own tables (a map, a directory).
            "temporary lookup failure",
            "mail system configuration error",
            "temporary local problem",
            "service currently unavailable",
            "queue file write error",
            "loops back to myself",
            "transaction failed ",
            "timeout waiting for input",
            "internal error",
            "system error",
            "server error",
            "local error",
            "i/o error",
            "server busy",
            "temporary system problem",
            "temporary server error",
            "delivery to file forbidden",
            "delivery to pipe forbidden",
            "local delivery failed",
            "lmtp error after ",
            "bad interpreter",
            // Exim's own routing to itself ("lowest numbered MX record points to local host",
            // "remote host address is the local host"), Postfix's and Sendmail's own failures.
            "points to local host",
            "remote host address is the local host",
            "unknown mail transport error",
            "can't create output",
            // hMailServer's own relay, misconfigured: "The host specified as SMTP relay server
            // could not be found."
            "specified as smtp relay server",
        ],
    ),
    (
        BounceReason::NetworkError,
        &[
            "could not connect and send the mail to",
            "dns records for the destination computer could not be found",
            "hop count exceeded",
            "exceeded maximum hop count",
            "host is unreachable",
            "host unreachable",
            "host name lookup failure",
            "host not found, try again",
            "lookups failed temporarily",
            "lookup failed temporarily",
            // Exim's: the next hop closed before its greeting.
            "closed connection in response to initial connection",
            // Exim's: "Remote host closed connection in response to end of data".
            "remote host closed connection in response to",
            "host lookup did not complete",
            // qmail's DNS lookup that failed for now (the HostUnknown veto's).
            "any host by that name",
            "mail forwarding loop for ",
            "malformed name server reply",
            "malformed or unexpected name server reply",
            "maximum forwarding loop count exceeded",
            "message looping",
            "routing loop",
            "too many hops",
            "unable to resolve route ",
            "unrouteable mail domain",
            "no route to host",
            "network is unreachable",
            "could not contact dns servers",
            "listed as a best-preference mx",
            "loop detected",
            "network error on destination",
            "no relevant answers",
            "temporary failure in mx lookup",
            "dns lookup failed",
            "dns query failed",
            // hMailServer's: "Unable to find the recipient's email server. The DNS query has
            // failed."
            "dns query has failed",
            "exceeded 50 hops",
        ],
    ),
    (
        BounceReason::SystemFull,
        &[
            "mail system full",
            "exceeded storage allocation",
            "insufficient system storage",
            "insufficient system resources",
            "system storage",
            "server is full",
            "queue is full",
            "not enough free space",
        ],
    ),
    (
        BounceReason::NotAccept,
        &[
            "host/domain does not accept mail",
            "host does not accept mail",
            "does not accept mail (nullmx)",
            "domain does not accept mail",
            "mail receiving disabled",
            "name server: .: host not found",
            "no mx record found for domain=",
            "no route for current request",
            "destination seem to reject all mails",
            "no mx found for ",
            "null mx",
            "indicated no smtp service",
            "no host found for existing smtp connection",
            "couldn't find a mail exchanger",
            "doesn't receive email",
            "does not receive email",
            "accepts no mail",
            "system not accepting network messages",
        ],
    ),
    (
        BounceReason::Expired,
        &[
            "connection timed out",
            "could not find a gateway for",
            "delivery attempts will continue to be",
            "delivery expired",
            "delivery time expired",
            "failed to deliver to domain ",
            // Haraka, when no MX host of the domain took the message before it gave up.
            "tried all mxs",
            "giving up on",
            // Sendmail's queue warning and failure.
            "cannot send message for",
            "could not send message for past",
            "have been failing for a long time",
            "has been delayed",
            "it has not been collected after",
            "message expired",
            "message timed out",
            "retry time not reached for any host after a long failure period",
            "retry timeout exceeded",
            "server did not respond",
            "in the queue too long",
            "unable to deliver message after multiple retries",
            "was not reachable within the allowed queue period",
            "could not be delivered for more than",
            "envelope expired",
            "host not reachable",
            "did not accept our requests to connect",
            "was not delivered within",
            "could not be delivered within",
            "queue lifetime",
            "too long in queue",
            "connection expired",
            "past the expiration",
        ],
    ),
    (
        BounceReason::FailedStartTls,
        &[
            "starttls is required",
            "tls required but not supported",
            "must issue a starttls",
            "tls not available",
            "cannot start tls",
            "does not support tls",
            "certificate not verified",
            "tls required",
            "requires tls",
            "tls is required",
            "route requires encryption",
            "failed mta-sts validation",
            "mta-sts",
            "tls/sslv3 connection required",
            // Exchange Online's 5.7.321, its own outbound TLS: "starttls-not-supported:
            // Destination mail server must support TLS to receive mail."
            "starttls-not-supported",
            "must support tls to receive",
        ],
    ),
    (
        BounceReason::SecurityError,
        &[
            "account not subscribed to ses",
            "authentication credentials invalid",
            "authentication failure",
            "authentication required",
            "basic authentication is not supported",
            "authentication turned on in your email client",
            "executable files are not allowed in compressed files",
            "unauthenticated senders not allowed",
            "verification failure",
            "authentication is required",
            "you don't authenticate",
            "must authenticate",
            "too many login attempts",
            "log in with your web browser",
            "log in through your web browser",
            "application-specific password required",
            "username and password not accepted",
            "incorrect authentication data",
            "submitter failed to authenticate",
            "could not retrieve credentials",
            "security alert",
        ],
    ),
    (
        BounceReason::MailerError,
        &[
            " || exit ",
            "procmail: ",
            "bin/procmail",
            "bin/maildrop",
            "command failed: ",
            "command died with status ",
            "command output:",
            // Exim's pipe transport: "Child process of address_pipe transport returned 127
            // (could mean unable to exec or command does not exist) …", "… was terminated by
            // signal 9", "pipe process failed to exec …"; Postfix's pipe(8) timeout.
            "child process of ",
            "was terminated by signal",
            "failed to exec ",
            "command time limit exceeded",
            "mailer error",
            "pipe to |/",
            "x-unix; ",
        ],
    ),
    (
        // A sending provider's own list of addresses it will not mail again (Amazon SES,
        // Mailgun's 605/607, Postmark's inactive recipients): the provider's decision, not
        // the receiver's verdict on the address.
        BounceReason::Suppressed,
        &[
            "on the suppression list",
            "from the suppression list",
            "has suppressed sending",
            "that have been marked as inactive",
            "not delivering to previously bounced address",
            "not delivering to a user who marked your messages as spam",
        ],
    ),
    (
        // A command the server could not parse or did not expect (Sendmail's address parser,
        // Postfix's command order).
        BounceReason::SyntaxError,
        &[
            "unbalanced '<'",
            "unbalanced '>'",
            "need rcpt command",
            "need mail command",
            "bad sequence of commands",
        ],
    ),
    (
        BounceReason::Vacation,
        &[
            "i am away on vacation",
            "i am away until",
            "i am out of the office",
            "i will be traveling for work",
        ],
    ),
    // Sisimai's reason modules' wordings (go-sisimai and p5-sisimai, 2025–2026; its provider
    // table for Cox's AUP codes) where we had none for that reason; those Sisimai files under
    // another reason than ours, its broad two-word pairs, qmail's "does not like recipient"
    // (qmail writes it for every refusal at RCPT TO) and links (`decide` reads text without
    // them) were left out.
    (
        BounceReason::UserUnknown,
        &[
            "domino ディレクトリには見つかりません",
            "ディレクトリのリストにありません",
            "5.1.0 address rejected.",
            "mailbox unavaiable",
            "not email addresses",
            "no thank you rejected: account unavailable",
            "recipient address rejected. (in reply to rcpt to command)",
            "resolver.adr.recipient notfound",
            "mailbox is not allowed",
        ],
    ),
    (
        BounceReason::MailboxFull,
        &[
            "boite du destinataire pleine",
            "收件人空间不足",
            "邮箱空间不足",
            "mailbox would exceed maximum allowed storage",
            "not sufficient disk space",
            "user has exceeded quota, bouncing mail",
            "user's space has been used up",
        ],
    ),
    (
        BounceReason::Filtered,
        &[
            "due to extended inactivity new mail is not currently being accepted for this mailbox",
            // The recipient's own list of refused senders.
            "user's reject list",
        ],
    ),
    (
        BounceReason::Blocked,
        &[
            "found on one or more dnsbls",
            "rejected because the sending mta or the sender has not passed validation",
            "currently sending spam see: ",
            "cox too many bad commands from",
            "aup#ipbl",
            "aup#cdrbl",
            "aup#cxbl",
        ],
    ),
    (
        BounceReason::SpamDetected,
        &[
            "reject bulk.advertising",
            "filtered by outbound scanning",
            "message has been temporarily blocked by our filter",
            "message was rejected by recurrent pattern detection system",
            "spamming not allowed",
            "your email breaches local uribl policy",
            "554 5.7.0 reject, id=",
            "rejected: spamassassin score ",
            "listed in work.drbl.imedia.ru",
            "aup#urlbl",
        ],
    ),
    (
        BounceReason::HostUnknown,
        &["smtpsend.dns.nonexistentdomain"],
    ),
    (
        BounceReason::Expired,
        &["no action is required on your part"],
    ),
    (
        BounceReason::Suspend,
        &[
            " currently suspended",
            "archived recipient",
            // Argentine providers: "this mailbox has expired for lack of use".
            "ha expirado por falta de uso",
            "boite du destinataire archivee",
            "invalid/inactive user",
            "is unavailable: user is terminated",
            "user or domain is disabled",
            "mailaddress is administrativey disabled",
        ],
    ),
    (
        BounceReason::AuthFailure,
        &[
            "5322.from address doesn't meet the authentication requirements",
            "aup#cxsndr",
        ],
    ),
    (
        BounceReason::RequirePtr,
        &[
            "the corresponding forward dns entry does not point to the sending ip",
            "unresolvable relay host name",
            "dns check failure - try again later",
            "aup#cxdns",
        ],
    ),
    (
        BounceReason::NetworkError,
        &[
            "smtpsend.dns.mxloopback",
            // Said by OpenSMTPD, but not only by it.
            "address family mismatch on destination mxs",
            "all routes to destination blocked",
            "could not retrieve source address",
        ],
    ),
    (
        BounceReason::Rejected,
        &[
            "backscatter protection detected an invalid or expired email address",
            "can't determine purported responsible address",
            "emetteur invalide",
            "empty email address",
            "from: domain is invalid. please provide a valid from:",
            "fully qualified email address required",
            "has an outgoing mail suspension",
            "is not a registered gateway user",
            "not member article from ",
            "sending this from a different address or alias using the ",
            "spam reporting address",
            "too many spam complaints",
            "error: no third-party dsns",
            "rule imposed mailbox access for",
            "empty envelope senders not allowed",
            "literal senders not allowed",
            "sender contains a disallowed",
            "server does not accept mail from",
            "all recipient addresses rejected : access denied",
            "sender envelope domain not allowed for sender ip address",
            "spam mail from a spammer is rejected",
            "aup#cxsmtp",
        ],
    ),
    (
        BounceReason::SystemError,
        &[
            " has detected a loop condition so that",
            "loop alert: ",
            "loop back warning:",
            "warning: unix from loop",
            "aliasing/forwarding loop broken",
            "loop was found in the mail exchanger",
            "can't create user output file",
            "cannot send e-mail to yourself",
            "could not load ",
            "input/output error",
            "interrupted system call",
            "it encountered an error while being processed",
            "ldap attribute",
            "ldap lookup",
            "ldap server",
            "no such file or directory",
            "recipient deferred because there is no mdb",
            "remote server is misconfigured",
            "upstream error",
            "when journaling archive is disabled",
            " - temporary mta failure on relaying",
            "automatic homedir creator crashed",
            "error while executing qmail-forward",
            "several matches found in domino directory",
            "too many results returned but needs to be unique",
        ],
    ),
    (
        BounceReason::MesgTooBig,
        &[
            "exceeded maximum inbound message size",
            "exceeded the maximum incoming message size",
            "line limit exceeded",
            "taille limite du message atteinte",
        ],
    ),
    (
        BounceReason::TooManyConn,
        &[
            "requested action aborted: try again later",
            "aup#cxcnct",
            "aup#cxmxrt",
        ],
    ),
    (
        BounceReason::SecurityError,
        &[
            "please turn on smtp authentication in your mail client",
            "authentication credentialsinvalid",
            "aup#cxmj",
            "aup#cxthrt",
        ],
    ),
    (
        BounceReason::NoRelaying,
        &[
            "(state 12)",
            "mail server requires authentication when attempting to send to a non-local e-mail address",
            "not local host",
            "specified domain is not allowed",
        ],
    ),
    (
        BounceReason::NotCompliantRfc,
        &[
            "rfc 1035 violation: recursive cname records for",
            "550 requested action aborted [4]",
        ],
    ),
    (BounceReason::VirusDetected, &[" detected by zoho mail"]),
    (
        BounceReason::FailedStartTls,
        &[
            "certificate-host-mismatch:",
            "dnssec-invalid:",
            "tlsa-invalid:",
            "restrictdomainstoipaddresses or restrictdomainstocertificate",
        ],
    ),
    (BounceReason::MailerError, &["bin/maidrop"]),
];

/// Statements made of parts that must appear in this order (with anything between them).
#[rustfmt::skip]
const ORDERED: &[(BounceReason, &[&str])] = &[
    (BounceReason::MailboxFull, &["account is", "quota"]),
    (BounceReason::MailboxFull, &["disk", "quota"]),
    (BounceReason::MailboxFull, &["enough", "space"]),
    (BounceReason::MailboxFull, &["mailbox", "exceeded", "limit"]),
    (BounceReason::MailboxFull, &["mailbox", "full"]),
    (BounceReason::MailboxFull, &["maildir", "quota"]),
    (BounceReason::MailboxFull, &["over", "quota"]),
    (BounceReason::MailboxFull, &["quota", "exceeded"]),
    (BounceReason::UserUnknown, &["<", "> not found"]),
    (BounceReason::UserUnknown, &["account ", " does not exist"]),
    (BounceReason::UserUnknown, &["bad", "recipient"]),
    (BounceReason::UserUnknown, &["mailbox ", "does not exist"]),
    (BounceReason::UserUnknown, &["no ", " in name directory"]),
    (BounceReason::UserUnknown, &["non", "existent user"]),
    (BounceReason::UserUnknown, &["rcpt <", " does not exist"]),
    (BounceReason::UserUnknown, &["recipient ", " was not found in"]),
    (BounceReason::UserUnknown, &["this user doesn't have a ", " account"]),
    (BounceReason::UserUnknown, &["unknown e", "mail address"]),
    (BounceReason::UserUnknown, &["unknown local", "part"]),
    (BounceReason::UserUnknown, &["user ", " was not found"]),
    (BounceReason::UserUnknown, &["user ", " does not exist"]),
    (BounceReason::UserUnknown, &["user (", ") unknown"]),
    (BounceReason::UserUnknown, &["said: 550", "5.1.1 ", " user unknown "]),
    (BounceReason::NotCompliantRfc, &[" multiple ", " header"]),
    // Postfix's refusal of a recipient domain with a null MX (RFC 7505).
    (BounceReason::NotAccept, &["recipient address rejected: domain ", " does not accept mail"]),
    (BounceReason::NotCompliantRfc, &[" header", " appears twice"]),
    (BounceReason::ContentError, &["header data", " malformed"]),
    (BounceReason::HostUnknown, &["domain ", "not exist"]),
    (BounceReason::HostUnknown, &["host ", " not found"]),
    (BounceReason::HostUnknown, &["553 ", " does not exist"]),
    (BounceReason::AuthFailure, &["is not allowed to send from <", "spf record"]),
    (BounceReason::Blocked, &["access from ip address ", " blocked"]),
    (BounceReason::Blocked, &["client host ", " blocked using"]),
    (BounceReason::Blocked, &["client host [", "] blocked"]),
    (BounceReason::Blocked, &["connections will not be accepted from ", "spamhaus"]),
    (BounceReason::Blocked, &["email blocked by ", "barracudacentral"]),
    (BounceReason::Blocked, &["email blocked by ", "spamhaus"]),
    (BounceReason::Blocked, &["host ", " refused to talk to me: ", " blocked"]),
    (BounceReason::Blocked, &["ip ", " is blocked by"]),
    (BounceReason::Blocked, &["is in an ", "rbl on "]),
    // "Too many connections", "too many open connections", "too many concurrent SMTP
    // connections".
    (BounceReason::TooManyConn, &["too many ", "connections"]),
    (BounceReason::Blocked, &["mail server at ", " is blocked"]),
    (BounceReason::Blocked, &["mail from ", " refused:"]),
    (BounceReason::Blocked, &[ "messages from ", " temporarily deferred due to user complaints", ]),
    (BounceReason::Blocked, &["server ip ", " listed as abusive"]),
    (BounceReason::Blocked, &["your ip address", " is blocked"]),
    (BounceReason::Blocked, &["the ip", " is blacklisted"]),
    (BounceReason::Blocked, &["your ip", " blacklisted"]),
    (BounceReason::Blocked, &["your access ip", " has been rejected"]),
    (BounceReason::Blocked, &["your sender's ip address is listed at ", ".abuseat.org"]),
    (BounceReason::SpamDetected, &["spam ", " exceeded"]),
    (BounceReason::SpamDetected, &["this message scored ", " spam points"]),
    (BounceReason::SpamDetected, &["score", "spam"]),
    (BounceReason::Expired, &["could not be delivered for", " days"]),
    (BounceReason::Expired, &["could not deliver for the last", "second"]),
    (BounceReason::NetworkError, &["malformed", "name server reply"]),
    (BounceReason::NetworkError, &["no ", "route to"]),
    (BounceReason::SystemError, &["unable to connect ", "daemon"]),
    (BounceReason::PolicyViolation, &[ "you have exceeded the", "allowable number of posts without solving a captcha", ]),
    (BounceReason::SecurityError, &["authentication failed; server ", " said: "]),
    (BounceReason::SecurityError, &["user ", " is not authorized to perform ses:sendrawemail"]),
    (BounceReason::TooManyConn, &["too many ", "session"]),
    (BounceReason::Rejected, &["access denied", "in reply to mail from"]),
    (BounceReason::Speeding, &["temporarily", "rate limited"]),
    // Sisimai's (see the end of STATEMENTS).
    (BounceReason::UserUnknown, &["rcpt (", "t exist"]),
    (BounceReason::UserUnknown, &["mailbox ", " unavailable or access denied"]),
    (BounceReason::SpamDetected, &["mail score (", " over "]),
    (BounceReason::SpamDetected, &["refused by ", " spamprofiler"]),
    (BounceReason::SpamDetected, &["message ", " spamprofiler"]),
    (BounceReason::Expired, &["delivery ", " expired"]),
    (BounceReason::Suspend, &["has been ", "suspended"]),
    (BounceReason::AuthFailure, &[" is not allowed to send mail.", "_401"]),
    (BounceReason::RequirePtr, &["domain ", " mismatches client ip"]),
    (BounceReason::RequirePtr, &["dns lookup failure: ", " try again later"]),
    (BounceReason::RequirePtr, &["ptr", "record"]),
    (BounceReason::Rejected, &["domain ", " is a dead domain"]),
    (BounceReason::SystemError, &["proxy", "broken pipe"]),
    (BounceReason::SecurityError, &["authentification invalide", "305"]),
    (BounceReason::SecurityError, &["authentification requise", "402"]),
];

/// Texts that state a refused recipient or a refused sending host (its IP), which a sender
/// refusal's wordings ("address rejected", "has been blacklisted") must not be read into.
const RECIPIENT_REFUSALS: &[&str] = &[
    "5.1.0 address rejected",
    "recipient address rejected",
    "sender ip address rejected",
    "your ip has been",
    "your ip address has been",
    "your ip is ",
];

/// Texts whose subject is the envelope sender's address or domain.
const SENDER_SUBJECTS: &[&str] = &[
    "sender address",
    "sender's address",
    "sender email address",
    "sender domain",
    "sender's domain",
    "envelope sender",
    "domain in mail from",
    // Haraka's access plugin on the From: header: "Email from that domain is not accepted here."
    "from that domain",
    "from this domain",
    "from your domain",
];

/// Does a text that names no recipient name our sender (its address, its domain) as what it is
/// about? Then its verdicts on an address or a domain are our sender's. (An RCPT stage does not
/// count against it: Postfix evaluates sender restrictions at RCPT TO by default, "…: Sender
/// address rejected: … (in reply to RCPT TO command)".)
pub(super) fn names_our_sender(lower: &str) -> bool {
    !lower.contains("recipient") && SENDER_SUBJECTS.iter().any(|s| lower.contains(s))
}

/// A refusal whose head is our sender (Postfix's "Sender address rejected: …", Exim's "Sender
/// verify failed"): what it goes on to say (an unknown user, a domain not found, the answer a
/// verification callout got from our own server, "Recipient address rejected" included) is why
/// the sender was refused, never a verdict on the recipient.
const SENDER_REFUSAL_HEADS: &[&str] = &[
    "sender address rejected",
    "sender verify failed",
    "sender verification failed",
    // Exim's callout that got no answer for now ("451-Could not complete sender verify callout
    // for <a@b>."): what follows is about our sender's domain.
    "could not complete sender verify",
    // Exim's first line of a sender verification that failed ("550-Verification failed for
    // <…>"), before the callout's quoted answer.
    "-verification failed for",
];

/// Does `lower` refuse our sender by name (see [`SENDER_REFUSAL_HEADS`]) before it says
/// anything about a recipient? A report's text may hold several recipients' refusals (a
/// recipient's own line is read with the report around it): a sender refused for another
/// recipient, after this one's "User unknown", is no verdict on this one.
pub(super) fn refuses_our_sender(lower: &str) -> bool {
    // Exim's callout head flattened into one line ("550 Verification failed for <a@b> … Sender
    // verify failed", as an Exchange notice quotes it).
    // Its postmaster callout says the same ("550-Postmaster verification failed while checking
    // <a@b>").
    let callout = lower
        .contains("sender verify failed")
        .then(|| {
            [
                "verification failed for <",
                "verification failed while checking <",
            ]
            .iter()
            .filter_map(|h| lower.find(h))
            .min()
        })
        .flatten()
        .filter(|&at| !lower[..at].trim_end().ends_with("recipient"));
    let Some(head) = SENDER_REFUSAL_HEADS
        .iter()
        .filter_map(|h| lower.find(h))
        .chain(callout)
        .min()
    else {
        return false;
    };
    // (The text before the first head holds none, so these do not come back here.)
    let before = &lower[..head];
    !(before.contains("recipient address rejected")
        || says(BounceReason::UserUnknown, before)
        || says(BounceReason::HostUnknown, before)
        || says(BounceReason::NotAccept, before))
}

/// The order a bare text (one reply, no session around it) is read in: the reason whose
/// statement it makes, the more specific reasons first.
pub(super) const SPOKEN: &[BounceReason] = &[
    BounceReason::Suppressed,
    BounceReason::MailboxFull,
    BounceReason::MesgTooBig,
    BounceReason::ExceedLimit,
    BounceReason::Suspend,
    BounceReason::RequirePtr,
    BounceReason::UserUnknown,
    BounceReason::Filtered,
    BounceReason::Rejected,
    BounceReason::HostUnknown,
    BounceReason::AuthFailure,
    BounceReason::NotCompliantRfc,
    BounceReason::PolicyViolation,
    BounceReason::VirusDetected,
    BounceReason::BadReputation,
    BounceReason::SpamDetected,
    BounceReason::Speeding,
    BounceReason::TooManyConn,
    BounceReason::Blocked,
    BounceReason::FailedStartTls,
    BounceReason::SecurityError,
    BounceReason::SystemError,
    BounceReason::NetworkError,
    BounceReason::Expired,
    BounceReason::ContentError,
    BounceReason::HasMoved,
    BounceReason::SystemFull,
    BounceReason::NotAccept,
    BounceReason::MailerError,
    BounceReason::NoRelaying,
    BounceReason::SyntaxError,
];

/// The first reason in [`SPOKEN`] order whose statement `lower` makes; `limit` says the
/// text's code is x.2.3 (the recipient's own limit: "too big" then means that limit).
pub(super) fn spoken(lower: &str, limit: bool) -> Option<BounceReason> {
    let found = SPOKEN
        .iter()
        .copied()
        .filter(|r| !(limit && *r == BounceReason::MesgTooBig))
        .find(|r| says(*r, lower));
    // A sender refused for failing SPF, DKIM or DMARC (Orange's "Invalid Sender. SPF check
    // failed") is refused for its authentication.
    if found == Some(BounceReason::Rejected) && says(BounceReason::AuthFailure, lower) {
        return Some(BounceReason::AuthFailure);
    }
    found
}

/// Words of an attachment a filter blocked (XWall's "Reason: Blocked attachment"): the
/// content's policy, not a block of the sender.
const BLOCKED_ATTACHMENT: &[&str] = &[
    "blocked attachment",
    "attachment(s) in the message is blocked",
    "attachment is blocked",
    "attachments are blocked",
    "attachment was blocked",
];

/// Words that veto a reason's statements: what they say is about something else.
const VETOES: &[(BounceReason, &[&str])] = &[
    // Our sender's own account ("the sender account is disabled or not registered", mail.ru's
    // "message sending for this account is disabled"): not the recipient's mailbox.
    (
        BounceReason::Suspend,
        &[
            "sender account",
            "sender's account",
            "sending account",
            "sending for this account",
        ],
    ),
    // A program that did not run (Exim's "… returned 127 (could mean unable to exec or command
    // does not exist)") is no recipient. (Its 67, "could mean user nonexistent", is one; and a
    // delivery program's own output, "Mailbox does not exist", still speaks.)
    (
        BounceReason::UserUnknown,
        &["unable to exec or command does not exist"],
    ),
    // A limit on connections ("Connection rate limit exceeded", Orange's "Too many
    // connections, slow down") is not a sending rate.
    (
        BounceReason::Speeding,
        &[
            "connection rate",
            "too many connections",
            "trop de connexions",
        ],
    ),
    // A name server that failed for now ("… Host not found, try again", "lookups failed
    // temporarily") is no verdict on the domain.
    (
        BounceReason::HostUnknown,
        &[
            "not found, try again",
            "failed temporarily",
            "temporary failure in name resolution",
            // qmail's lookup that failed for now: "Sorry, I couldn't find any host by that name.
            // (#4.1.2)" (its permanent one names the host: "… any host named …"). Sisimai reads
            // both as hostunknown; without the code (a relay may drop it) the words still say
            // which.
            "any host by that name",
            // Our own HELO name ("Helo command rejected: Host not found", a reply "in reply to
            // EHLO command").
            "helo command rejected",
            "ehlo command rejected",
            "in reply to helo",
            "in reply to ehlo",
        ],
    ),
    // The sender's own quota ("daily user sending quota exceeded") is not a full mailbox.
    (
        BounceReason::MailboxFull,
        &["sending quota", "sending limit"],
    ),
    // The receiver's own lookup of a list failed ("Temporary lookup failure of 192.0.2.7 at
    // zen.example", "temporary RBL lookup error"): no verdict on the client.
    (BounceReason::Blocked, RECEIVER_LOOKUP_FAILURES),
];

/// Does `lower` (lower case) make one of `reason`'s statements?
pub(super) fn says(reason: BounceReason, lower: &str) -> bool {
    // A refusal of our sender answers for the reasons about an address, and only for them (so
    // only they pay for the look).
    match reason {
        BounceReason::Rejected if refuses_our_sender(lower) => return true,
        BounceReason::UserUnknown
        | BounceReason::HostUnknown
        | BounceReason::NotAccept
        | BounceReason::Filtered
        | BounceReason::HasMoved
        | BounceReason::Suspend
            if refuses_our_sender(lower) =>
        {
            return false;
        }
        _ => {}
    }
    // Words that say a reason's statement is about something else.
    if VETOES
        .iter()
        .any(|(r, words)| *r == reason && words.iter().any(|w| lower.contains(w)))
    {
        return false;
    }
    if reason == BounceReason::Rejected && RECIPIENT_REFUSALS.iter().any(|r| lower.contains(r)) {
        return false;
    }
    // "Does not exist" (or has no or a null MX, is not found) about the sender's own address
    // or domain ("550 5.1.8 Sender address does not exist", maddy's "Domain in MAIL FROM has
    // null MX record"), in a text that names no recipient, refuses the sender.
    if matches!(
        reason,
        BounceReason::UserUnknown | BounceReason::HostUnknown | BounceReason::NotAccept
    ) && !lower.contains("recipient")
        && SENDER_SUBJECTS.iter().any(|subject| {
            [
                "does not exist",
                "doesn't exist",
                "null mx",
                "mx record",
                "not found",
                "not accepted",
                // "553 5.1.0 Sender address syntax error"
                "syntax",
            ]
            .iter()
            .any(|said| said_of(lower, subject, said))
        })
    {
        return false;
    }
    // qmail's "Giving up on <ip>." closes every permanent refusal it quotes ("<ip> does not
    // like recipient. Remote host said: 553 …"): the refusal decides, not an expiry.
    if reason == BounceReason::Expired && lower.contains("remote host said: 5") {
        return false;
    }
    // RFC 5321's own 551 names the address to try instead ("551 User not local; please try
    // <a@b>"); the template copied without one ("please try <forward-path>") is a relay's
    // refusal, and words of a refused relay decide over it.
    if reason == BounceReason::HasMoved
        && let Some(at) = lower.find("user not local; please try")
    {
        let rest = &lower[at..];
        let names_an_address = rest
            .find('<')
            .and_then(|open| {
                rest[open..]
                    .find('>')
                    .map(|close| &rest[open..open + close])
            })
            .is_some_and(|inside| inside.contains('@'));
        if names_an_address && !says(BounceReason::NoRelaying, lower) {
            return true;
        }
    }
    // A refused relay that explains itself ("Relaying denied. Proper authentication
    // required"; Sendmail's "Relaying denied. IP name lookup failed [192.0.2.9]") is the
    // relay's refusal, not a security error or a demand for a PTR.
    if matches!(
        reason,
        BounceReason::SecurityError | BounceReason::RequirePtr
    ) && says(BounceReason::NoRelaying, lower)
    {
        return false;
    }
    // An attachment a filter blocked is the content's policy (unless the filter found a virus
    // in it: the virus), not a block of the sender: the other statements are asked of the rest
    // of the text.
    if matches!(
        reason,
        BounceReason::PolicyViolation | BounceReason::Blocked
    ) && BLOCKED_ATTACHMENT.iter().any(|p| lower.contains(p))
    {
        if reason == BounceReason::PolicyViolation && !says(BounceReason::VirusDetected, lower) {
            return true;
        }
        let rest = BLOCKED_ATTACHMENT
            .iter()
            .fold(lower.to_string(), |text, p| text.replace(p, " "));
        return says(reason, &rest);
    }
    // Our sender's address or domain on a list ("Sender address [a@b] blocked using
    // dbl.example", Postfix's class for a listed sender; "envelope sender a@b blacklisted"): a
    // refusal of our sender, not of the client.
    if matches!(reason, BounceReason::Blocked | BounceReason::Rejected)
        && sender_listed(lower)
        && !RECIPIENT_REFUSALS.iter().any(|r| lower.contains(r))
    {
        return reason == BounceReason::Rejected;
    }
    // (A relay refusal worded the same way stays the relay's.)
    if reason == BounceReason::Blocked
        && (refuses_client_ip(lower) || client_ip_listed(lower))
        && !says(BounceReason::NoRelaying, lower)
    {
        return true;
    }
    STATEMENTS
        .iter()
        .filter(|(r, _)| *r == reason)
        .any(|(_, list)| list.iter().any(|p| contains_phrase(lower, p)))
        || ORDERED
            .iter()
            .filter(|(r, _)| *r == reason)
            .any(|(_, parts)| in_order(lower, parts))
}

/// "Mail from 192.0.2.7 refused" (Sendmail's check_relay, Trend Micro's RBL+, many filters),
/// "… from 192.0.2.7 not allowed", Yahoo's "All messages from 192.0.2.7 will be permanently
/// deferred": the client's IP address is what was refused.
fn refuses_client_ip(lower: &str) -> bool {
    lower.match_indices("from ").any(|(at, w)| {
        let rest = &lower[at + w.len()..];
        let (token, after) = rest.split_once(' ').unwrap_or((rest, ""));
        // What came from it: mail, not a relay or a login ("Relay from 192.0.2.7 not allowed").
        let what = lower[..at].split_whitespace().next_back().unwrap_or("");
        let mail = [
            "mail",
            "messages",
            "email",
            "e-mail",
            "traffic",
            "connections",
        ]
        .contains(&what);
        is_ip_token(token)
            && (after.starts_with("refused")
                || (mail
                    && !lower.contains("spf")
                    && [
                        "not allowed",
                        "will be permanently deferred",
                        "blocked",
                        "is blocked",
                    ]
                    .iter()
                    .any(|w| after.starts_with(w))))
    })
}

/// "Rejected: 192.0.2.7 listed at bl.example" (Sendmail's FEATURE(dnsbl)), "[192.0.2.7] is
/// listed on zen.example": the client's IP address is on a list (of a zone, a blocklist). Not
/// an address or a name that is listed ("not listed in Domino Directory" is a user unknown),
/// nor an address in the message's links ("URL 192.0.2.7 listed in multi.surbl.org").
fn client_ip_listed(lower: &str) -> bool {
    lower.match_indices(" listed ").any(|(at, w)| {
        let before = lower[..at].trim_end();
        let before = before.strip_suffix(" is").unwrap_or(before);
        let mut words = before.rsplit(char::is_whitespace);
        let token = words.next().unwrap_or("").trim_end_matches([':', ',']);
        let named = words.next().unwrap_or("");
        let after = &lower[at + w.len()..];
        is_ip_token(token)
            && !["url", "uri", "link", "links"].contains(&named)
            && !lower.contains("surbl")
            && !lower.contains("uribl")
            && ["at ", "in ", "on ", "by "]
                .iter()
                .any(|p| after.starts_with(p))
    })
}

/// The receiving server's own failure to look a client up on a list.
const RECEIVER_LOOKUP_FAILURES: &[&str] = &[
    "temporary lookup failure",
    "rbl lookup error",
    "dnsbl lookup error",
    "dns error on ",
    "dns error during",
];

/// Our sender's address or domain said to be on a list: Postfix's reply for a listed sender
/// ("Sender address [a@b] blocked using …", the address perhaps blanked by the reader),
/// Microsoft's "MailFrom domain is listed in Spamhaus", "envelope sender a@b blacklisted",
/// "sender a@b black listed". Not when the text names the client too (its listing is the
/// client's).
fn sender_listed(lower: &str) -> bool {
    const LISTED: &[&str] = &[
        "blocked using",
        "blacklisted",
        "black listed",
        "blocklisted",
    ];
    if lower.contains("client") {
        return false;
    }
    let postfix = lower.match_indices("sender address ").any(|(at, w)| {
        let rest = lower[at + w.len()..].trim_start();
        let rest = match rest.strip_prefix('[') {
            Some(inside) => inside.split_once(']').map_or("", |(_, after)| after),
            None => rest,
        };
        rest.trim_start().starts_with("blocked using")
    });
    let listed_after = |from: usize| LISTED.iter().any(|l| said_after(lower, from, l));
    postfix
        || lower.contains("mailfrom domain is listed")
        || lower
            .match_indices("envelope sender ")
            .any(|(at, w)| listed_after(at + w.len()))
        || lower.match_indices("sender ").any(|(at, w)| {
            let rest = &lower[at + w.len()..];
            rest.split_whitespace()
                .next()
                .is_some_and(|t| t.contains('@'))
                && listed_after(at + w.len())
        })
}

/// An IP address as a reply writes it, bare or in brackets or parentheses.
fn is_ip_token(token: &str) -> bool {
    token
        .trim_matches(|c| c == '[' || c == ']' || c == '(' || c == ')')
        .parse::<std::net::IpAddr>()
        .is_ok()
}

/// All `parts` occur in `hay`, in this order, without overlapping; a part that is one word
/// matches whole words only ("full" is not "fully").
/// `said` follows `subject` closely (within 80 bytes of its end): a statement about it, not
/// about something named later in a longer text.
fn said_of(lower: &str, subject: &str, said: &str) -> bool {
    lower
        .match_indices(subject)
        .any(|(at, _)| said_after(lower, at + subject.len(), said))
}

/// `said` within 80 bytes after byte `from` of `lower`.
fn said_after(lower: &str, from: usize, said: &str) -> bool {
    let to = (from + 80 + said.len()).min(lower.len());
    lower
        .get(from..to)
        .or_else(|| lower.get(from..))
        .is_some_and(|window| window.contains(said))
}

pub(super) fn in_order(hay: &str, parts: &[&str]) -> bool {
    let mut rest = hay;
    for part in parts {
        let one_word = part.bytes().all(|b| b.is_ascii_alphabetic());
        let found = rest.match_indices(part).find(|(at, _)| {
            !one_word || {
                let b = rest.as_bytes();
                (*at == 0 || !b[at - 1].is_ascii_alphanumeric())
                    && b.get(at + part.len())
                        .is_none_or(|c| !c.is_ascii_alphanumeric())
            }
        });
        match found {
            Some((at, _)) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_parts_must_follow_each_other() {
        assert!(says(BounceReason::MailboxFull, "the mailbox of x is full"));
        assert!(!says(BounceReason::MailboxFull, "full: the mailbox"));
        assert!(!says(
            BounceReason::MailboxFull,
            "mailbox delivered successfully"
        ));
        assert!(says(
            BounceReason::MailboxFull,
            "quota exceeded (mailbox for user is full)"
        ));
        assert!(!says(
            BounceReason::MailboxFull,
            "daily user sending quota exceeded"
        ));
        assert!(in_order("user (x) unknown", &["user (", ") unknown"]));
        assert!(!in_order("unknown user (x)", &["user (", ") unknown"]));
    }

    /// Blocklist refusals as receiving servers word them (docs/research/blocklist-wordings.md):
    /// the client refused by its address; our sender's address on a list (a refusal of our
    /// sender); a link in the message on a URI list (the content); the receiver's own failure
    /// to look the client up (no verdict on anybody).
    #[test]
    fn blocklist_refusals_tell_the_client_the_sender_the_content_and_the_lookup_apart() {
        use BounceReason::*;
        let read = |text: &str| super::super::classify_text(text).recipients[0].reason;
        for (text, want) in [
            ("553 Mail from 192.0.2.7 not allowed", Blocked),
            (
                "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked you may be infected",
                Blocked,
            ),
            (
                "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
                Blocked,
            ),
            ("550 5.7.1 Rejected - listed in bl.spamcop.net", Blocked),
            (
                "554 5.7.1 Service unavailable; Sender address [a@example.org] blocked using dbl.example; https://dbl.example/query/example.org",
                Rejected,
            ),
            ("550 envelope sender a@example.org blacklisted.", Rejected),
            ("550 5.7.1 sender a@example.org black listed #127", Rejected),
            ("554 Rejected by SURBL.", SpamDetected),
            (
                "550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus DBL -- see https://www.spamhaus.org/dbl/",
                SpamDetected,
            ),
            ("451 temporary RBL lookup error", SystemError),
            (
                "451 4.7.1 dnsbl lookup error for zen.spamhaus.org",
                SystemError,
            ),
            (
                "550 5.7.1 Service unavailable, MailFrom domain is listed in Spamhaus. To request removal from this list see https://www.spamhaus.org/query/lookup/ (S8002)",
                Rejected,
            ),
            ("421 DNS error on zen.spamhaus.org", SystemError),
        ] {
            assert_eq!(read(text), want, "{text}");
        }
        // A failed lookup is not a listing, whatever list it names.
        assert_ne!(
            read("451 4.4.3 Temporary lookup failure of 192.0.2.7 at zen.spamhaus.org"),
            Blocked
        );
        // A relay refused, an SPF failure, a client named beside a listed sender, a recipient
        // refused whatever it goes on to say: none is our sender's listing or a client's block.
        assert_ne!(read("550 5.7.1 Relay from 192.0.2.7 not allowed"), Blocked);
        assert_ne!(
            read("550 5.7.23 Mail from 192.0.2.7 not allowed (SPF fail)"),
            Blocked
        );
        assert_eq!(
            read(
                "554 5.7.1 Rejected: sender a@example.org, client [192.0.2.7] blocked using zen.spamhaus.org"
            ),
            Blocked
        );
        assert_eq!(read("550 Sender [192.0.2.7] blacklisted"), Blocked);
        let recipient = super::super::classify_text(
            "550 5.1.1 <r@example.net>: Recipient address rejected: sender a@example.org blacklisted",
        );
        assert!(!recipient.recipients[0].hard);
        // A link on a URI list is the content, not the client, even with the client's address
        // rule in reach.
        assert!(!says(
            Blocked,
            "554 5.7.1 message contains url 198.51.100.7 listed in black.uribl.com"
        ));
        // The client's own listing stays the client's.
        assert_eq!(
            read(
                "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"
            ),
            Blocked
        );
    }

    /// A client's IP address on a zone's list is a block of the client (Sendmail's
    /// FEATURE(dnsbl): "Rejected: 192.0.2.7 listed at bl.example"), whatever code it carries;
    /// an address or a name that is not listed somewhere is something else.
    #[test]
    fn a_client_address_listed_at_a_zone_is_blocked() {
        for text in [
            "550 5.7.1 Rejected: 192.0.2.7 listed at bl.example",
            "554 [192.0.2.7] is listed on zen.example",
            "550 5.7.1 Rejected: 2001:db8::7 listed at bl.example",
        ] {
            let lower = text.to_ascii_lowercase();
            assert_eq!(spoken(&lower, false), Some(BounceReason::Blocked), "{text}");
        }
        assert_ne!(
            spoken(
                "550 5.1.1 someone@example.org not listed in domino directory",
                false
            ),
            Some(BounceReason::Blocked)
        );
        assert_ne!(
            spoken(
                "550 5.7.1 rejected: mail.example.org listed at our partners",
                false
            ),
            Some(BounceReason::Blocked)
        );
        assert_ne!(
            spoken(
                "554 5.7.1 message contains url 198.51.100.7 listed in multi.surbl.org",
                false
            ),
            Some(BounceReason::Blocked)
        );
    }

    #[test]
    fn wordings_from_sisimai_and_the_tuning_split() {
        let spoken = |t: &str| spoken(t, false);
        assert_eq!(
            spoken("554 5.7.1 message cannot be accepted, spam rejection"),
            Some(BounceReason::SpamDetected)
        );
        assert_eq!(
            spoken("554 1.2.3.4 refused. aup#cxbl"),
            Some(BounceReason::Blocked)
        );
        // Exchange's own token, whoever is taken to have written the report.
        assert_eq!(
            spoken("554 5.4.4 smtpsend.dns.nonexistentdomain; nonexistent domain"),
            Some(BounceReason::HostUnknown)
        );
        assert_eq!(
            spoken("smtp-fw-1.example.com; sbrs score too low: http://www.senderbase.org/"),
            Some(BounceReason::BadReputation)
        );
        assert_eq!(
            spoken("554 rejected by senderbase reputation filter"),
            Some(BounceReason::BadReputation)
        );
        assert_eq!(
            spoken("550 user has too many messages on the server"),
            Some(BounceReason::MailboxFull)
        );
        assert_eq!(
            spoken("554 sending address not accepted due to spam filter"),
            Some(BounceReason::Rejected)
        );
        assert_eq!(
            super::super::reasons::by_phrase("503 5.5.1 ehlo/helo first"),
            Some(BounceReason::SyntaxError)
        );
        // The sending host, not the sender's address, is what was listed.
        assert_eq!(
            spoken("550 your ip has been blacklisted"),
            Some(BounceReason::Blocked)
        );
        assert_eq!(
            spoken("550 your address has been blacklisted"),
            Some(BounceReason::Rejected)
        );
        // A sender account that is disabled is not a suspended recipient.
        assert_eq!(
            super::super::reasons::by_phrase(
                "550 5.7.0 mail sending denied: the sender account is disabled"
            ),
            Some(BounceReason::Rejected)
        );
        // qmail writes "does not like recipient" for every refusal at RCPT TO: not a statement
        // that the address does not exist; nor is a mailbox that refuses some senders a
        // domain that accepts no mail.
        assert!(!says(
            BounceReason::UserUnknown,
            "192.0.2.1 does not like recipient. remote host said: 550 5.7.1 rate limit exceeded"
        ));
        assert!(!says(
            BounceReason::NotAccept,
            "550 5.7.1 this mailbox does not accept mail from unverified senders"
        ));
    }

    #[test]
    fn a_relay_refused_for_a_nameless_client_is_a_refused_relay() {
        let text =
            "550 5.7.1 <a@example.org>... relaying denied. ip name lookup failed [192.0.2.9]";
        assert_eq!(spoken(text, false), Some(BounceReason::NoRelaying));
        assert_eq!(
            spoken("550 5.7.1 ip name lookup failed [192.0.2.9]", false),
            Some(BounceReason::RequirePtr)
        );
    }

    #[test]
    fn limits_on_connections_and_relays_that_ask_for_authentication() {
        // Sendmail's ConnectionRateThrottle and MaxDaemonChildren refusals: connections.
        for text in [
            "421 4.3.2 connection rate limit exceeded.",
            "421 4.3.2 too many open connections.",
        ] {
            assert_eq!(
                spoken(text, false),
                Some(BounceReason::TooManyConn),
                "{text}"
            );
        }
        // A relay refused, with how to be allowed ("Proper authentication required"): the
        // refusal is the relay's.
        assert_eq!(
            spoken(
                "550 5.7.1 <a@example.org>... relaying denied. proper authentication required.",
                false
            ),
            Some(BounceReason::NoRelaying)
        );
        assert_eq!(
            spoken("530 5.7.0 authentication required", false),
            Some(BounceReason::SecurityError)
        );
        // A realtime blocklist (RBL) names the sending host.
        assert_eq!(
            spoken(
                "550 5.7.1 [c12] rbl restriction: see https://csi.cloudmark.com/reset-request/",
                false
            ),
            Some(BounceReason::Blocked)
        );
    }

    #[test]
    fn harakas_refusal_of_a_recipient_no_plugin_accepted_is_a_refused_relay() {
        // Haraka's own words when no plugin accepted the recipient as local or for relay
        // ("No plugin determined if relaying was allowed", its log says).
        let c = super::super::classify_text("550 I cannot deliver mail for <a@example.org>");
        assert_eq!(c.recipients[0].reason, BounceReason::NoRelaying);
        assert!(!c.recipients[0].hard);
    }

    #[test]
    fn a_sender_that_does_not_exist_is_a_refused_sender() {
        for text in [
            "550 5.1.8 sender address does not exist",
            "550 sender address does not exist",
            "553 sender domain does not exist",
        ] {
            assert_eq!(spoken(text, false), Some(BounceReason::Rejected), "{text}");
            assert!(!says(BounceReason::UserUnknown, text), "{text}");
            assert!(!says(BounceReason::HostUnknown, text), "{text}");
        }
        // The recipient's address, still; and an unknown user beside a mere mention of the
        // envelope sender (a returned header's comment) is still an unknown user.
        assert_eq!(
            spoken("550 5.1.1 recipient address does not exist", false),
            Some(BounceReason::UserUnknown)
        );
        assert!(says(
            BounceReason::UserUnknown,
            "550 user unknown (envelope sender: <a@example.org>)"
        ));
    }

    #[test]
    fn a_refused_recipient_is_not_a_refused_sender() {
        assert!(says(BounceReason::Rejected, "550 sender address rejected"));
        assert!(!says(
            BounceReason::Rejected,
            "550 5.1.1 <a@b>: recipient address rejected: user unknown"
        ));
    }
}
