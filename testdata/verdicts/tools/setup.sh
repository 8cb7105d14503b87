#!/bin/bash
# Part of make-corpus.sh: install packages, generate DKIM keys, write the configuration of
# Postfix, unbound, opendkim, opendmarc, policyd-spf (python and perl), amavisd-new,
# SpamAssassin (via amavis), clamd, clamav-milter, rspamd and rsyslog. Loopback only. Needs root.
set -euo pipefail
RUN=${RUN:-/tmp/pfverdicts}
mkdir -p "$RUN"
chmod 755 "$RUN"

need=""
for p in postfix rsyslog swaks unbound opendkim opendkim-tools opendmarc postfix-policyd-spf-python \
         postfix-policyd-spf-perl amavisd-new spamassassin clamav clamav-daemon clamav-milter rspamd python3-dkim; do
  dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
  apt-get update -q
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # --no-install-recommends: rspamd recommends redis-server, which is not used here
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi

# ---------- name resolution ----------
# /etc/hosts: the test hosts (Postfix and smtpd's reverse lookups); resolv.conf -> our unbound on 127.0.0.1:53
[ -f "$RUN/hosts.orig" ] || cp /etc/hosts "$RUN/hosts.orig"
[ -f "$RUN/resolv.conf.orig" ] || cp /etc/resolv.conf "$RUN/resolv.conf.orig"
cat "$RUN/hosts.orig" > /etc/hosts
cat >> /etc/hosts <<'H'
# --- pfi verdicts corpus test names (added by verdicts/tools/setup.sh) ---
127.0.0.1  mx1.a.test mx1
127.0.0.2  mail.b.test
127.0.0.3  relay.elsewhere.test
127.0.0.4  mail.c.test
127.0.0.11 mx.r.test
H
echo "nameserver 127.0.0.1" > /etc/resolv.conf

# ---------- DKIM keys (new on every run; only the public halves are kept in conf/) ----------
# not under /tmp: opendkim refuses keys whose path has a world-writable directory (RequireSafeKeys)
KEYS=${KEYS:-/var/lib/pfi-verdicts/keys}
mkdir -p "$(dirname "$KEYS")"; chmod 755 "$(dirname "$KEYS")"
rm -rf "$KEYS"; mkdir -p "$KEYS"
genkey() { # domain selector
  mkdir -p "$KEYS/$1"
  opendkim-genkey -b 2048 -h sha256 -r -s "$2" -d "$1" -D "$KEYS/$1"
}
genkey a.test mail        # our outbound signing key (opendkim signs a.test)
genkey b.test s2026       # partner: signatures made by the driver with opendkim-testmsg
genkey b.test gone        # private key whose public half is NOT published (key not found)
genkey c.test k1
genkey esp.test esp1      # a third-party (non-aligned) signer
genkey g.test sel         # domain whose DNS answers REFUSED (temperror)
chown -R opendkim:opendkim "$KEYS"; chmod 700 "$KEYS"/*; chmod 600 "$KEYS"/*/*.private
chmod 755 "$KEYS"; chmod 755 "$KEYS"/*; chmod 644 "$KEYS"/*/*.txt

# ---------- unbound: authoritative-style local data for *.test on 127.0.0.1:53 ----------
txt_of() { # keyfile.txt -> the quoted strings of the TXT record on one line
  tr -d '\n' < "$1" | sed -e 's/^[^(]*(//' -e 's/).*$//' -e 's/[[:space:]]\+/ /g' -e 's/^ //' -e 's/ $//'
}
mkdir -p "$RUN/unbound"
cat > "$RUN/unbound.conf" <<U
server:
  interface: 127.0.0.1
  port: 53
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "$RUN/unbound"
  pidfile: "$RUN/unbound.pid"
  use-syslog: no
  logfile: "$RUN/unbound.log"
  verbosity: 1
  log-queries: yes
  module-config: "iterator"
  # nothing outside this file exists: every other name is NXDOMAIN, at once
  local-zone: "." static
  # g.test: every query is REFUSED (the SPF/DKIM temperror cases)
  local-zone: "g.test." always_refuse
  local-data: "a.test. IN MX 10 mx1.a.test."
  local-data: "mx1.a.test. IN A 127.0.0.1"
  local-data: 'a.test. IN TXT "v=spf1 ip4:127.0.0.1 -all"'
  local-data: '_dmarc.a.test. IN TXT "v=DMARC1; p=none"'
  local-data: 'mail._domainkey.a.test. IN TXT $(txt_of $KEYS/a.test/mail.txt)'
  local-data: "mail.b.test. IN A 127.0.0.2"
  local-data: 'b.test. IN TXT "v=spf1 ip4:127.0.0.2 -all"'
  local-data: 'mail.b.test. IN TXT "v=spf1 a -all"'
  local-data: '_dmarc.b.test. IN TXT "v=DMARC1; p=none; adkim=r; aspf=r"'
  local-data: 's2026._domainkey.b.test. IN TXT $(txt_of $KEYS/b.test/s2026.txt)'
  local-data: 'c.test. IN TXT "v=spf1 ip4:127.0.0.4 ~all"'
  local-data: '_dmarc.c.test. IN TXT "v=DMARC1; p=reject"'
  local-data: 'k1._domainkey.c.test. IN TXT $(txt_of $KEYS/c.test/k1.txt)'
  local-data: 'd.test. IN TXT "v=spf1 ?all"'
  local-data: 'f.test. IN TXT "v=spf1 ip4:127.0.0.2 ip4:not-an-address -all"'
  local-data: 'q.test. IN TXT "v=spf1 ip4:127.0.0.4 -all"'
  local-data: '_dmarc.q.test. IN TXT "v=DMARC1; p=quarantine"'
  local-data: 'esp.test. IN TXT "v=spf1 ip4:127.0.0.3 -all"'
  local-data: 'esp1._domainkey.esp.test. IN TXT $(txt_of $KEYS/esp.test/esp1.txt)'
  local-data: 'r.test. IN TXT "v=spf1 -all"'
  local-data: "mx.r.test. IN A 127.0.0.11"
  # e.test: no SPF and no DMARC record (spf none, dmarc none); the name exists
  local-data: "e.test. IN A 127.0.0.5"
U
unbound-checkconf "$RUN/unbound.conf"

# ---------- users and mailboxes ----------
for u in alice bob carol; do id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"; done
MAILDIR=/var/spool/pfi-verdicts-mail
rm -rf "$MAILDIR"; mkdir -p "$MAILDIR"; chmod 1777 "$MAILDIR"
rm -rf "$RUN/sink"; mkdir -p "$RUN/sink"; chmod 777 "$RUN/sink"

# ---------- Postfix ----------
cat > /etc/postfix/main.cf <<M
# pfi verdicts corpus (loopback only)
compatibility_level = 3.6
myhostname = mx1.a.test
mydomain = a.test
myorigin = a.test
mydestination = mx1.a.test, localhost, a.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP \$mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
mail_spool_directory = $MAILDIR
recipient_delimiter = +
enable_long_queue_ids = no
# next hops from transport_maps / /etc/hosts only
smtp_dns_support_level = disabled
smtp_host_lookup = native
transport_maps = hash:/etc/postfix/transport
smtpd_helo_required = yes
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# SPF (python policyd-spf, default reject policy); the other listeners override this (master.cf)
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
    check_policy_service unix:private/policyd-spf
policyd-spf_time_limit = 3600
spf-norej_time_limit = 3600
spf-perl_time_limit = 3600
# milters are set per listener in master.cf
milter_default_action = tempfail
milter_protocol = 6
M

cat > /etc/postfix/master.cf <<'MC'
# service type  private unpriv  chroot  wakeup  maxproc command + args
# inbound: python policyd-spf (reject on Fail), opendkim + opendmarc, then amavisd-new
127.0.0.1:smtp inet n   -       n       -       -       smtpd
  -o smtpd_milters=inet:127.0.0.1:8891,inet:127.0.0.1:8893
  -o content_filter=smtp-amavis:[127.0.0.1]:10024
# inbound: perl postfix-policyd-spf-perl, same milters and filter
127.0.0.1:2525 inet n   -       n       -       -       smtpd
  -o { smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/spf-perl }
  -o smtpd_milters=inet:127.0.0.1:8891,inet:127.0.0.1:8893
  -o content_filter=smtp-amavis:[127.0.0.1]:10024
# inbound: python policyd-spf that never rejects (header only), same milters and filter
127.0.0.1:2527 inet n   -       n       -       -       smtpd
  -o { smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/spf-norej }
  -o smtpd_milters=inet:127.0.0.1:8891,inet:127.0.0.1:8893
  -o content_filter=smtp-amavis:[127.0.0.1]:10024
# inbound: clamav-milter only (no SPF, no amavis)
127.0.0.1:2526 inet n   -       n       -       -       smtpd
  -o { smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination }
  -o smtpd_milters=inet:127.0.0.1:8894
# inbound: rspamd (proxy worker in milter mode) only
127.0.0.1:2528 inet n   -       n       -       -       smtpd
  -o { smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination }
  -o smtpd_milters=inet:127.0.0.1:11332
# outbound submission from 127.0.0.1 (mynetworks, opendkim's InternalHosts): opendkim signs a.test
127.0.0.1:submission inet n -   n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o { smtpd_recipient_restrictions = permit_mynetworks, reject }
  -o smtpd_milters=inet:127.0.0.1:8891
# amavisd-new re-injection listener
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/reinject
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o { smtpd_recipient_restrictions = permit_mynetworks, reject }
  -o { smtpd_relay_restrictions = permit_mynetworks, reject }
  -o smtpd_data_restrictions=
  -o smtpd_end_of_data_restrictions=
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
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
# amavisd-new feed
smtp-amavis unix -      -       n       -       2       smtp
  -o syslog_name=postfix/amavis
  -o smtp_data_done_timeout=1200
  -o smtp_send_xforward_command=yes
  -o max_use=20
# SPF policy services
policyd-spf unix -      n       n       -       0       spawn
  user=policyd-spf argv=/usr/bin/policyd-spf @RUN@/policyd-spf/reject.conf
spf-norej unix  -       n       n       -       0       spawn
  user=policyd-spf argv=/usr/bin/policyd-spf @RUN@/policyd-spf/norej.conf
spf-perl  unix  -       n       n       -       0       spawn
  user=policyd-spf argv=/usr/bin/perl @RUN@/policyd-spf/postfix-policyd-spf-perl
MC
sed -i "s#@RUN@#$RUN#g" /etc/postfix/master.cf
cat > /etc/postfix/transport <<'T'
r.test          smtp:[mx.r.test]
T
postmap /etc/postfix/transport
cat > /etc/aliases <<'A'
postmaster: root
root: alice
A
newaliases

# ---------- SPF policy servers ----------
mkdir -p "$RUN/policyd-spf"
# python: Debian's policyd-spf.conf, but loopback clients are checked (skip_addresses emptied)
cat > "$RUN/policyd-spf/reject.conf" <<'P'
#  Debian default policyd-spf.conf; only skip_addresses changed (the test clients are on 127.0.0.0/8)
debugLevel = 1
TestOnly = 1

HELO_reject = Fail
Mail_From_reject = Fail

PermError_reject = False
TempError_Defer = False

skip_addresses = 127.0.0.1/32
P
sed -e 's/^HELO_reject = .*/HELO_reject = False/' -e 's/^Mail_From_reject = .*/Mail_From_reject = False/' \
    -e 's/only skip_addresses changed.*/skip_addresses changed, and never reject (header only)/' \
    "$RUN/policyd-spf/reject.conf" > "$RUN/policyd-spf/norej.conf"
# perl: the script hard-codes the localhost exemption for 127.0.0.0/8; this copy exempts 127.0.0.1 only
sed -e 's#qw(  127.0.0.0/8  ::ffff:127.0.0.0/104  ::1  )#qw(  127.0.0.1/32  )#' \
    /usr/sbin/postfix-policyd-spf-perl > "$RUN/policyd-spf/postfix-policyd-spf-perl"
grep -q 'qw(  127.0.0.1/32  )' "$RUN/policyd-spf/postfix-policyd-spf-perl"
chmod 755 "$RUN/policyd-spf"; chmod 644 "$RUN/policyd-spf"/*

# ---------- opendkim ----------
mkdir -p "$RUN/opendkim"
cat > "$RUN/opendkim/opendkim.conf" <<O
# Debian 12 /etc/opendkim.conf defaults (Syslog, SyslogSuccess, relaxed/simple, OversignHeaders From)
# plus: TCP socket, KeyTable/SigningTable for a.test, our unbound as resolver, no DNSSEC trust anchor.
Syslog                  yes
SyslogSuccess           yes
LogResults              yes
Canonicalization        relaxed/simple
OversignHeaders         From
UserID                  opendkim
UMask                   007
Socket                  inet:8891@127.0.0.1
PidFile                 $RUN/opendkim/opendkim.pid
Background              no
Mode                    sv
InternalHosts           127.0.0.1
KeyTable                $RUN/opendkim/KeyTable
SigningTable            refile:$RUN/opendkim/SigningTable
ResolverConfiguration   $RUN/opendkim/libunbound.conf
AlwaysAddARHeader       yes
AuthservID              mx1.a.test
O
echo "mail._domainkey.a.test a.test:mail:$KEYS/a.test/mail.private" > "$RUN/opendkim/KeyTable"
# opendkim resolves with libunbound: forward everything to our unbound (libunbound would not
# query a localhost forwarder by default, and must not validate: the .test data is unsigned)
cat > "$RUN/opendkim/libunbound.conf" <<LU
server:
  do-not-query-localhost: no
  module-config: "iterator"
  # libunbound answers *.test itself (NXDOMAIN, RFC 6761 default local zone) unless told not to
  local-zone: "test." nodefault
forward-zone:
  name: "."
  forward-addr: 127.0.0.1
LU
echo "*@a.test mail._domainkey.a.test" > "$RUN/opendkim/SigningTable"
chmod 755 "$RUN/opendkim"; chmod 644 "$RUN/opendkim"/*
chown opendkim "$RUN/opendkim"

# ---------- opendmarc ----------
mkdir -p "$RUN/opendmarc"
cat > "$RUN/opendmarc/opendmarc.conf" <<O
# Debian 12 /etc/opendmarc.conf defaults plus: TCP socket, reject p=reject failures,
# hold p=quarantine failures, trust opendkim's and our own A-R headers (authserv-id mx1.a.test).
PidFile                 $RUN/opendmarc/opendmarc.pid
PublicSuffixList        /usr/share/publicsuffix/public_suffix_list.dat
Socket                  inet:8893@127.0.0.1
Syslog                  true
UMask                   0002
UserID                  opendmarc
Background              false
AuthservID              mx1.a.test
TrustedAuthservIDs      mx1.a.test
RejectFailures          true
HoldQuarantinedMessages true
O
chown opendmarc "$RUN/opendmarc"; chmod 755 "$RUN/opendmarc"

# ---------- clamd (own config; signature database made locally, see README) ----------
mkdir -p "$RUN/clamav/db"
# EICAR test file: MD5 and size of the 68-byte standard file, named as ClamAV names it
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$RUN/clamav/eicar.com"
sz=$(stat -c %s "$RUN/clamav/eicar.com"); md=$(md5sum "$RUN/clamav/eicar.com" | cut -d' ' -f1)
[ "$sz" = 68 ] && [ "$md" = 44d88612fea8a8f36de82e1278abb02f ]
echo "$md:$sz:Win.Test.EICAR_HDB-1" > "$RUN/clamav/db/local-eicar.hdb"
cat > "$RUN/clamav/clamd.conf" <<C
# clamd for the corpus: runs as amavis (reads amavis' temp files), logs to syslog facility mail
LocalSocket $RUN/clamav/clamd.ctl
LocalSocketMode 666
TCPSocket 3310
TCPAddr 127.0.0.1
User amavis
Foreground yes
PidFile $RUN/clamav/clamd.pid
DatabaseDirectory $RUN/clamav/db
LogSyslog yes
LogFacility LOG_MAIL
LogTime no
LogClean no
LogVerbose no
ExtendedDetectionInfo yes
ScanMail yes
ScanArchive yes
MaxThreads 4
SelfCheck 3600
C
cat > "$RUN/clamav/clamav-milter.conf" <<C
# clamav-milter for the corpus: reject infected mail, log infected and clean verdicts
MilterSocket inet:8894@127.0.0.1
User clamav
Foreground yes
PidFile $RUN/clamav/clamav-milter.pid
ClamdSocket tcp:127.0.0.1:3310
OnInfected Reject
OnClean Accept
OnFail Defer
AddHeader Replace
LogSyslog yes
LogFacility LOG_MAIL
LogInfected Full
LogClean Full
ReadTimeout 120
C
chown -R amavis:amavis "$RUN/clamav"; chmod 755 "$RUN/clamav" "$RUN/clamav/db"

# ---------- amavisd-new + SpamAssassin ----------
mkdir -p "$RUN/amavis/conf.d"
cp /etc/amavis/conf.d/* "$RUN/amavis/conf.d/"
cat > "$RUN/amavis/conf.d/60-pfi" <<AM
use strict;
# pfi verdicts corpus: overrides on top of Debian 12's conf.d (copied next to this file)
\$myhostname = 'mx1.a.test';
\$mydomain = 'a.test';
@local_domains_acl = ( 'a.test', '.a.test' );
\$max_servers = 2;
\$pid_file = '$RUN/amavis/amavisd.pid';
\$lock_file = '$RUN/amavis/amavisd.lock';
\$inet_socket_bind = '127.0.0.1';
\$inet_socket_port = 10024;
@inet_acl = qw(127.0.0.1);
\$forward_method = 'smtp:[127.0.0.1]:10025';
\$notify_method  = 'smtp:[127.0.0.1]:10025';
\$enable_db = 0;
\$QUARANTINEDIR = '$RUN/amavis/quarantine';
\$enable_global_cache = 0;
@bypass_virus_checks_maps = (0);
@bypass_spam_checks_maps  = (0);
# no network tests; no admin notifications (every message in the log is one the driver sent)
\$sa_local_tests_only = 1;
\$virus_admin = undef;
\$spam_admin = undef;
\$banned_admin = undef;
\$bad_header_admin = undef;
# SPAMMY: tag2 below kill (Debian has both at 6.31); SPAM at 10 and above
\$sa_tag_level_deflt  = 2.0;
\$sa_tag2_level_deflt = 5.0;
\$sa_kill_level_deflt = 10.0;
\$sa_dsn_cutoff_level = 10;
# SpamAssassin's site config: a copy of /etc/spamassassin plus one corpus rule (60-pfi.cf)
\$sa_siteconfigpath = '$RUN/amavis/sa-site';
\$X_HEADER_LINE = "Debian \$myproduct_name at \$mydomain";
@av_scanners = (
 ['ClamAV-clamd',
   \&ask_daemon, ["CONTSCAN {}\n", "$RUN/clamav/clamd.ctl"],
   qr/\bOK\$/m, qr/\bFOUND\$/m,
   qr/^.*?: (?!Infected Archive)(.*) FOUND\$/m ],
);
@av_scanners_backup = ();
1;
AM
mkdir -p "$RUN/amavis/sa-site"
cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$RUN/amavis/sa-site/"
cat > "$RUN/amavis/sa-site/60-pfi.cf" <<'SA'
# pfi verdicts corpus: a body token that lifts a message into amavis' SPAMMY band (tag2 5.0, kill 10.0)
body     PFI_SPAMMY_TOKEN  /\bPFI-SPAMMY-TOKEN\b/
describe PFI_SPAMMY_TOKEN  pfi corpus test token
score    PFI_SPAMMY_TOKEN  7.0
SA
mkdir -p "$RUN/amavis/quarantine"
chown -R root:root "$RUN/amavis/conf.d"; chmod 644 "$RUN/amavis/conf.d"/*; chown amavis:amavis "$RUN/amavis" "$RUN/amavis/quarantine"

# ---------- rspamd (proxy worker in milter mode on 127.0.0.1:11332) ----------
mkdir -p "$RUN/rspamd/local.d" "$RUN/rspamd/override.d" "$RUN/rspamd/db"
cat > "$RUN/rspamd/local.d/logging.inc" <<R
type = "syslog";
facility = "LOG_MAIL";
level = "notice";
R
cat > "$RUN/rspamd/local.d/worker-proxy.inc" <<R
bind_socket = "127.0.0.1:11332";
milter = yes;
timeout = 120s;
upstream "local" {
  default = yes;
  self_scan = yes;
}
count = 1;
R
cat > "$RUN/rspamd/local.d/worker-normal.inc" <<R
bind_socket = "127.0.0.1:11333";
count = 1;
R
cat > "$RUN/rspamd/local.d/worker-controller.inc" <<R
bind_socket = "127.0.0.1:11334";
count = 1;
R
cat > "$RUN/rspamd/local.d/options.inc" <<R
dns {
  nameserver = ["127.0.0.1:53"];
  timeout = 1s;
  retransmits = 1;
}
pidfile = "$RUN/rspamd/rspamd.pid";
dbdir = "$RUN/rspamd/db";
local_addrs = [];
R
cat > "$RUN/rspamd/local.d/dkim_signing.conf" <<R
# rspamd only judges here (opendkim signs); without this it tries to sign for loopback senders
enabled = false;
R
chown -R _rspamd:_rspamd "$RUN/rspamd"

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
