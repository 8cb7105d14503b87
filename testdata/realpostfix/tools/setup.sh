#!/bin/bash
# Part of make-corpus.sh: install packages and write the Postfix/rsyslog configuration.
# Loopback only. Needs root. Safe to re-run.
set -euo pipefail
RUN=${RUN:-/tmp/pfcorpus2}
mkdir -p "$RUN"

if ! dpkg -s postfix >/dev/null 2>&1 || ! dpkg -s python3-aiosmtpd >/dev/null 2>&1 || ! dpkg -s python3-milter >/dev/null 2>&1; then
  apt-get update -q
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix rsyslog swaks pflogsumm \
      python3-aiosmtpd python3-milter sasl2-bin libsasl2-modules openssl zstd gzip
fi

# ---------- name resolution: loopback only ----------
# Keep Postfix (and everything else during the run) away from the real resolver:
# /etc/hosts gets the test names, resolv.conf points at 127.0.0.1 (nothing listens there).
[ -f "$RUN/hosts.orig" ] || cp /etc/hosts "$RUN/hosts.orig"
[ -f "$RUN/resolv.conf.orig" ] || cp /etc/resolv.conf "$RUN/resolv.conf.orig"
cat "$RUN/hosts.orig" > /etc/hosts
cat >> /etc/hosts <<'H'
# --- pfi corpus test names (added by realpostfix/tools/setup.sh) ---
127.0.0.1  mx1.example.test mx1
127.0.0.2  client2.external.test
127.0.0.4  mail.sender4.test
127.0.0.10 mx.partner.test mx2.partner.test
127.0.0.11 mx.ok.test
127.0.0.12 mx.hardfail.test
127.0.0.13 mx.softfail.test
127.0.0.14 mx.datafail.test
127.0.0.15 mx.refused.test
127.0.0.16 lmtp.store.test
127.0.0.17 mx.greet421.test
127.0.0.18 mx.dropconn.test
# second corpus: misbehaving peers (tools/peers.py)
127.0.0.20 mx.notls.test
127.0.0.21 mx.dropehlo.test
127.0.0.22 mx.dropdata.test
127.0.0.23 mx.slowehlo.test
127.0.0.24 mx.greet554.test
127.0.0.25 mx.tlsfail.test
127.0.0.26 mx.authfail.test
127.0.0.27 mx.silent.test
127.0.0.28 mx.slowdata.test
127.0.0.29 mx.tlsmay.test
H
echo "nameserver 127.0.0.1" > /etc/resolv.conf

# ---------- users ----------
for u in alice bob carol dave; do id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"; done
getent group vmail >/dev/null || groupadd -g 5000 vmail
id vmail >/dev/null 2>&1 || useradd -u 5000 -g 5000 -d /var/mail/vhosts -s /usr/sbin/nologin vmail
mkdir -p /var/mail/vhosts/vmail.test && chown -R vmail:vmail /var/mail/vhosts
: > /var/mail/alice; : > /var/mail/bob; : > /var/mail/carol
chown alice:mail /var/mail/alice; chown bob:mail /var/mail/bob; chown carol:mail /var/mail/carol
# dave's mailbox is "full": mailbox_size_limit is 2000000 and his mbox already holds ~1.99 MB
head -c 1990000 /dev/zero | tr '\0' 'x' | fold -w 76 > /var/mail/dave; chown dave:mail /var/mail/dave
mkdir -p "$RUN/filedrop" && : > "$RUN/filedrop/archive.mbox" && chmod 777 "$RUN/filedrop" && chmod 666 "$RUN/filedrop/archive.mbox"

# ---------- TLS ----------
mkdir -p /etc/postfix/tls
if [ ! -f /etc/postfix/tls/mx1.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mx1.example.test" \
     -keyout /etc/postfix/tls/mx1.key -out /etc/postfix/tls/mx1.crt 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mx.partner.test" \
     -keyout "$RUN/partner.key" -out "$RUN/partner.crt" 2>/dev/null
  chmod 600 /etc/postfix/tls/mx1.key
fi
[ -f "$RUN/partner.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mx.partner.test" \
     -keyout "$RUN/partner.key" -out "$RUN/partner.crt" 2>/dev/null

# ---------- SASL (cyrus, sasldb) for submission/smtps ----------
mkdir -p /etc/postfix/sasl
cat > /etc/postfix/sasl/smtpd.conf <<'S'
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
S
echo 'alicepw' | saslpasswd2 -p -c -u mx1.example.test alice
echo 'bobpw'   | saslpasswd2 -p -c -u mx1.example.test bob
chgrp postfix /etc/sasldb2; chmod 640 /etc/sasldb2

# ---------- main.cf ----------
cat > /etc/postfix/main.cf <<'M'
# pfi real-Postfix corpus configuration (loopback only)
compatibility_level = 3.6
myhostname = mx1.example.test
mydomain = example.test
myorigin = $myhostname
mydestination = $myhostname, localhost, local.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
recipient_delimiter = +
mailbox_size_limit = 2000000
message_size_limit = 1000000

# never use DNS: all next hops are [name] or [addr] resolved from /etc/hosts
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
relayhost = [mx.ok.test]
transport_maps = hash:/etc/postfix/transport

virtual_alias_domains = valias.test
virtual_alias_maps = hash:/etc/postfix/virtual
virtual_mailbox_domains = vmail.test
virtual_mailbox_base = /var/mail/vhosts
virtual_mailbox_maps = hash:/etc/postfix/vmailbox
virtual_uid_maps = static:5000
virtual_gid_maps = static:5000

# TLS
smtpd_tls_cert_file = /etc/postfix/tls/mx1.crt
smtpd_tls_key_file = /etc/postfix/tls/mx1.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database = btree:${data_directory}/smtpd_scache
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache

# SASL (enabled per service in master.cf)
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx1.example.test
smtpd_sasl_auth_enable = no

# short queue times so that deferred mail expires during the run
queue_run_delay = 15s
minimal_backoff_time = 15s
maximal_backoff_time = 60s
maximal_queue_lifetime = 3m
bounce_queue_lifetime = 3m
delay_warning_time = 1m
notify_classes = resource, software, 2bounce
anvil_status_update_time = 60s
connection_cache_status_update_time = 60s
enable_long_queue_ids = no

# restrictions
smtpd_helo_required = yes
smtpd_client_restrictions = permit_mynetworks, check_client_access cidr:/etc/postfix/client_access.cidr
smtpd_helo_restrictions = permit_mynetworks, check_helo_access hash:/etc/postfix/helo_access
smtpd_sender_restrictions = permit_mynetworks, check_sender_access hash:/etc/postfix/sender_access
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access hash:/etc/postfix/recipient_access,
    check_policy_service inet:127.0.0.1:10040,
    warn_if_reject, check_recipient_access hash:/etc/postfix/warn_access
smtpd_data_restrictions = reject_unauth_pipelining, reject_multi_recipient_bounce
smtpd_end_of_data_restrictions = check_sender_access hash:/etc/postfix/eod_sender_access
header_checks = regexp:/etc/postfix/header_checks
body_checks = regexp:/etc/postfix/body_checks

# postscreen (listens on 127.0.0.1:2552, see master.cf)
postscreen_access_list = permit_mynetworks, cidr:/etc/postfix/postscreen_access.cidr
postscreen_denylist_action = drop
postscreen_greet_action = enforce
postscreen_greet_wait = 3s
postscreen_dnsbl_sites =
postscreen_cache_map = btree:$data_directory/postscreen_cache

# ---- second corpus (milter, proxy filter, policy, smtp client failures, verify, VRFY/ETRN) ----
# milters: smtpd_milters only on the 127.0.0.1:2526 listener (master.cf); sendmail/pickup mail always
non_smtpd_milters = inet:127.0.0.1:8891
milter_default_action = tempfail
milter_protocol = 6
# per-destination TLS policy for the ordinary smtp transport (encrypt for notls/tlsfail)
smtp_tls_policy_maps = hash:/etc/postfix/tls_policy_out
# VRFY disabled (re-enabled on :2500), ETRN only from mynetworks
disable_vrfy_command = yes
smtpd_etrn_restrictions = permit_mynetworks, reject
# reject_unverified_recipient (via recipient_access for verify.test)
unverified_recipient_reject_code = 550
address_verify_poll_count = 5
M

# ---------- master.cf ----------
cat > /etc/postfix/master.cf <<'MC'
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:smtp inet n   -       n       -       -       smtpd
# "early" listener: restrictions evaluated at the stage they belong to (CONNECT/HELO/MAIL)
127.0.0.1:2500 inet n   -       n       -       -       smtpd
  -o smtpd_delay_reject=no
  -o smtpd_timeout=8s
  -o smtpd_hard_error_limit=3
  -o disable_vrfy_command=no
# milter listener: smtpd_milters -> tools/milter.py (python3-milter) on 127.0.0.1:8891
127.0.0.1:2526 inet n   -       n       -       -       smtpd
  -o smtpd_milters=inet:127.0.0.1:8891
# before-queue content filter listener: smtpd_proxy_filter -> tools/peers.py proxy on 127.0.0.1:10030
127.0.0.1:2527 inet n   -       n       -       -       smtpd
  -o smtpd_proxy_filter=127.0.0.1:10030
  -o smtpd_proxy_timeout=30s
127.0.0.1:submission inet n -   n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=
  -o content_filter=reinject:[127.0.0.1]:10025
127.0.0.1:2465 inet n   -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=
127.0.0.1:2552 inet n   -       n       -       1       postscreen
smtpd     pass  -       -       n       -       -       smtpd
dnsblog   unix  -       -       n       -       0       dnsblog
tlsproxy  unix  -       -       n       -       0       tlsproxy
# content-filter re-injection listener (amavis-style)
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/reinject
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_data_restrictions=
  -o smtpd_end_of_data_restrictions=
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
  -o smtpd_tls_security_level=none
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
        -o syslog_name=postfix/$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
# amavisd-new style content filter feed (the filter on :10024 is tools/remote_mx.py)
smtp-amavis unix -      -       n       -       2       smtp
  -o smtp_data_done_timeout=1200
  -o smtp_send_xforward_command=yes
  -o max_use=20
# TLS-verifying client for secure.test / badtls.test (trust anchor = the partner's self-signed cert)
securesmtp unix -       -       n       -       -       smtp
  -o smtp_tls_CAfile=/etc/postfix/tls/partner-ca.crt
  -o smtp_tls_policy_maps=hash:/etc/postfix/tls_policy
# short timeouts for the misbehaving peers (logs as postfix/smtp)
shorttmo  unix  -       -       n       -       -       smtp
  -o smtp_connect_timeout=5s
  -o smtp_helo_timeout=5s
  -o smtp_mail_timeout=5s
  -o smtp_rcpt_timeout=5s
  -o smtp_data_init_timeout=5s
  -o smtp_data_xfer_timeout=5s
  -o smtp_data_done_timeout=5s
  -o smtp_quit_timeout=5s
# smtp client SASL with a wrong password (server answers 535)
authsmtp  unix  -       -       n       -       -       smtp
  -o smtp_sasl_auth_enable=yes
  -o smtp_sasl_password_maps=hash:/etc/postfix/sasl_passwd
  -o smtp_sasl_security_options=noanonymous
  -o smtp_tls_security_level=none
# direct re-injection (submission content_filter) - logs as postfix/reinject-out
reinject  unix  -       -       n       -       4       smtp
  -o syslog_name=postfix/reinject-out
  -o smtp_send_xforward_command=yes
  -o smtp_tls_security_level=none
MC

# ---------- maps ----------
cat > /etc/postfix/transport <<'T'
ok.test         smtp:[mx.ok.test]
partner.test    smtp:[mx.partner.test]
hardfail.test   smtp:[mx.hardfail.test]
softfail.test   smtp:[mx.softfail.test]
datafail.test   smtp:[mx.datafail.test]
refused.test    smtp:[mx.refused.test]
greet421.test   smtp:[mx.greet421.test]
dropconn.test   relay:[mx.dropconn.test]
secure.test     securesmtp:[mx.partner.test]
badtls.test     securesmtp:[mx2.partner.test]
store.test      lmtp:inet:[lmtp.store.test]:24
errdom.test     error:5.1.2 Domain errdom.test no longer accepts mail
retrydom.test   retry:4.3.2 Destination retrydom.test is under maintenance
discard.test    discard:silently discarded by transport_maps
notls.test      smtp:[mx.notls.test]
tlsfail.test    smtp:[mx.tlsfail.test]
tlsmay.test     smtp:[mx.tlsmay.test]
greet554.test   smtp:[mx.greet554.test]
dropehlo.test   shorttmo:[mx.dropehlo.test]
dropdata.test   shorttmo:[mx.dropdata.test]
slowehlo.test   shorttmo:[mx.slowehlo.test]
silent.test     shorttmo:[mx.silent.test]
slowdata.test   shorttmo:[mx.slowdata.test]
authfail.test   authsmtp:[mx.authfail.test]
verify.test     smtp:[mx.partner.test]
T
cat > /etc/postfix/virtual <<'V'
info@valias.test     alice@local.test
sales@valias.test    bob@local.test, carol@local.test
ext@valias.test      someone@ok.test
mixed@valias.test    alice@local.test, user1@partner.test, gone@hardfail.test
V
cat > /etc/postfix/vmailbox <<'V'
v1@vmail.test   vmail.test/v1/
v2@vmail.test   vmail.test/v2/
V
cat > /etc/postfix/client_access.cidr <<'C'
127.0.0.5/32    REJECT 5.7.1 Client blocked by local policy
C
cat > /etc/postfix/postscreen_access.cidr <<'C'
127.0.0.6/32    reject
C
cat > /etc/postfix/helo_access <<'C'
bad.helo.test           REJECT 5.7.1 HELO name rejected by policy
C
cat > /etc/postfix/sender_access <<'C'
spammer@spam.test       REJECT 5.7.1 Sender address is blacklisted
holdme@external.test    HOLD quarantined by sender policy
dropme@external.test    DISCARD silently dropped by sender policy
C
cat > /etc/postfix/recipient_access <<'C'
blocked@local.test      REJECT 5.7.1 Mailbox disabled for policy reasons
vmail.test              FILTER smtp-amavis:[127.0.0.1]:10024
holdrcpt@local.test     HOLD held by recipient policy
discardrcpt@local.test  DISCARD discarded by recipient policy
verify.test             reject_unverified_recipient
C
cat > /etc/postfix/warn_access <<'C'
audit@local.test        REJECT 5.7.1 audit mailbox (warn_if_reject test, not really rejected)
C
cat > /etc/postfix/tls_policy <<'C'
[mx.partner.test]       verify match=mx.partner.test
[mx2.partner.test]      verify
C
cat > /etc/postfix/eod_sender_access <<'C'
eodreject@external.test REJECT 5.7.1 Message rejected after end of data
C
cat > /etc/postfix/header_checks <<'C'
/^Subject:.*\bHOLDME\b/         HOLD held by header_checks
/^Subject:.*\bDISCARDME\b/      DISCARD discarded by header_checks
/^Subject:.*\bREJECTME\b/       REJECT 5.7.1 Subject rejected by header_checks
/^Subject:.*\bREDIRECTME\b/     REDIRECT quarantine@local.test
/^Subject:/                     WARN
/^X-Mailer: swaks/              INFO
/^X-Priority: 1/                INFO
C
cat > /etc/postfix/body_checks <<'C'
/FORBIDDEN-BODY-TOKEN/          REJECT 5.7.1 Body content rejected
/HOLD-BODY-TOKEN/               HOLD held by body_checks
/DISCARD-BODY-TOKEN/            DISCARD discarded by body_checks
C
cat > /etc/postfix/tls_policy_out <<'C'
[mx.notls.test]         encrypt
[mx.tlsfail.test]       encrypt
C
cat > /etc/postfix/sasl_passwd <<'C'
[mx.authfail.test]      relayuser:wrong-password
C
chmod 600 /etc/postfix/sasl_passwd
cat > /etc/aliases <<A
postmaster: root
root: alice
quarantine: carol
audit: alice
holdrcpt: bob
discardrcpt: bob
fwd: remote.fwd@ok.test
team: alice, bob, carol@partner.test
pipe: "|/bin/cat >/dev/null"
filedrop: $RUN/filedrop/archive.mbox
A
cp "$RUN/partner.crt" /etc/postfix/tls/partner-ca.crt
for m in transport virtual vmailbox helo_access sender_access recipient_access eod_sender_access warn_access tls_policy tls_policy_out sasl_passwd; do postmap /etc/postfix/$m; done
newaliases

# ---------- rsyslog: two files, two timestamp formats, from the same messages ----------
mkdir -p "$RUN/rsyslog-work"
cat > "$RUN/rsyslog.conf" <<R
global(localHostname="mx1" workDirectory="$RUN/rsyslog-work")
module(load="imuxsock" SysSock.RateLimit.Interval="0" SysSock.RateLimit.Burst="0")
mail.*  action(type="omfile" file="$RUN/mail.log" template="RSYSLOG_TraditionalFileFormat")
mail.*  action(type="omfile" file="$RUN/mail-rfc3339.log" template="RSYSLOG_FileFormat")
R
postfix check
echo "setup done"
