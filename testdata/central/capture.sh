#!/bin/sh
# capture.sh - makes the files of testdata/central: what a central rsyslogd
# writes for real Postfix lines that another rsyslogd forwarded to it.
#
#   sh testdata/central/capture.sh [OUTDIR]     (default: this directory)
#
# Needs rsyslogd and logger (util-linux); runs as any user, on loopback,
# with its own configurations, pid files and work directories in a
# temporary directory (no /dev/log, no imklog).  For each forwarding
# template of the sender, `classic` (omfwd's default,
# RSYSLOG_TraditionalForwardFormat) and `rfc5424`
# (RSYSLOG_SyslogProtocol23Format, with parser.permitSlashInProgramName so
# that APP-NAME keeps "postfix/smtpd"), a sender named edge1 gets the
# lines on its unix socket as Postfix's syslog(3) sends them ("<22>Dec  6
# 21:02:31 postfix/smtpd[29071]: text", by logger -u) and forwards them
# over TCP to a receiver, which writes each as
# RSYSLOG_TraditionalFileFormat, RSYSLOG_FileFormat and
# RSYSLOG_SyslogProtocol23Format:
#   OUTDIR/{classic,rfc5424}-{traditional,file,protocol23}.log
# The lines are those of ../realpostfix/mail.log listed in LINES below; the
# stamps are rsyslog's (the time of the capture).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
src=$here/../realpostfix/mail.log
LINES='4,14p;72p;80p'
tmp=$(mktemp -d)
pids=

cleanup() {
	for p in $pids; do
		kill "$p" 2> /dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something listens on 127.0.0.1 port $1 (10 s at most).
wait_port() {
	python3 -c 'import socket, sys, time
for i in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("capture.sh: nothing listens on port " + sys.argv[1])' "$1"
}

# Waits until file $1 has $2 lines (10 s at most).
wait_lines() {
	i=0
	while [ "$(cat "$1" 2> /dev/null | wc -l)" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "capture.sh: no $2 lines in $1" >&2; exit 1; }
		sleep 0.1
	done
}

# capture NAME 'OMFWD TEMPLATE PARAMETER'
capture() {
	d=$tmp/$1
	port=$(free_port)
	mkdir -p "$d/recv" "$d/send"
	cat > "$d/recv.conf" <<-EOF
	global(workDirectory="$d/recv" parser.permitSlashInProgramName="on")
	module(load="imtcp")
	ruleset(name="central") {
		action(type="omfile" file="$d/traditional.log" template="RSYSLOG_TraditionalFileFormat")
		action(type="omfile" file="$d/file.log" template="RSYSLOG_FileFormat")
		action(type="omfile" file="$d/protocol23.log" template="RSYSLOG_SyslogProtocol23Format")
	}
	input(type="imtcp" address="127.0.0.1" port="$port" ruleset="central")
	EOF
	cat > "$d/send.conf" <<-EOF
	global(workDirectory="$d/send" localHostname="edge1" parser.permitSlashInProgramName="on")
	module(load="imuxsock" SysSock.Use="off")
	input(type="imuxsock" Socket="$d/log.sock" RateLimit.Interval="0")
	mail.* action(type="omfwd" target="127.0.0.1" port="$port" protocol="tcp" $2)
	EOF
	rsyslogd -n -f "$d/recv.conf" -i "$d/recv.pid" &
	pids="$pids $!"
	wait_port "$port"
	rsyslogd -n -f "$d/send.conf" -i "$d/send.pid" &
	pids="$pids $!"
	i=0
	while [ ! -S "$d/log.sock" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "capture.sh: no socket $d/log.sock" >&2; exit 1; }
		sleep 0.1
	done
	sed -n "$LINES" "$src" | while IFS= read -r line; do
		rest=${line#* mx1 }
		tag=${rest%%: *}
		text=${rest#*: }
		prog=${tag%%\[*}
		pid=${tag#*\[}
		pid=${pid%]}
		logger -u "$d/log.sock" -p mail.info -t "$prog" --id="$pid" -- "$text"
	done
	n=$(sed -n "$LINES" "$src" | wc -l)
	for f in traditional file protocol23; do
		wait_lines "$d/$f.log" "$n"
		cp "$d/$f.log" "$out/$1-$f.log"
	done
}

capture classic ''
capture rfc5424 'template="RSYSLOG_SyslogProtocol23Format"'
rsyslogd -v | head -n 1
ls -l "$out"/*.log
