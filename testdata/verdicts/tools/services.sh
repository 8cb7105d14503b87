#!/bin/bash
# Start/stop everything the verdicts corpus runs. PIDs of what we start go to $RUN/pids
# (name pid per line); stop kills exactly those PIDs (rsyslogd last).
RUN=${RUN:-/tmp/pfverdicts}
cmd=${1:-start}
WITH_RSPAMD=${WITH_RSPAMD:-1}

wait_port() { # port [tries]
  local i
  for i in $(seq 1 "${2:-150}"); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done
  echo "port $1 did not open" >&2; return 1
}
started() { echo "$1 $2" >> "$RUN/pids"; }

if [ "$cmd" = start ]; then
  : > "$RUN/pids"
  rm -f "$RUN/rsyslogd.pid"
  rsyslogd -f "$RUN/rsyslog.conf" -i "$RUN/rsyslogd.pid"
  sleep 1; started rsyslogd "$(cat "$RUN/rsyslogd.pid")"

  unbound -d -c "$RUN/unbound.conf" >"$RUN/unbound.out" 2>&1 &
  started unbound $!
  wait_port 53 50

  rm -f "$RUN/clamav/clamd.ctl"
  clamd --config-file="$RUN/clamav/clamd.conf" >"$RUN/clamd.out" 2>&1 &
  started clamd $!
  opendkim -f -x "$RUN/opendkim/opendkim.conf" >"$RUN/opendkim.out" 2>&1 &
  started opendkim $!
  opendmarc -f -c "$RUN/opendmarc/opendmarc.conf" >"$RUN/opendmarc.out" 2>&1 &
  started opendmarc $!
  cfg=""
  for f in /usr/share/amavis/conf.d/* "$RUN"/amavis/conf.d/*; do cfg="$cfg -c $f"; done
  # shellcheck disable=SC2086
  amavisd $cfg foreground >"$RUN/amavisd.out" 2>&1 &
  started amavisd $!
  if [ "$WITH_RSPAMD" = 1 ]; then
    rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf --var=LOCAL_CONFDIR="$RUN/rspamd" \
       --var=DBDIR="$RUN/rspamd/db" --var=RUNDIR="$RUN/rspamd" >"$RUN/rspamd.out" 2>&1 &
    started rspamd $!
  fi
  # the "remote" MX for r.test: Postfix' smtp-sink, dumping each message (signed a.test mail)
  smtp-sink -u nobody -h mx.r.test -d "$RUN/sink/%M%S." 127.0.0.11:25 64 >"$RUN/sink.out" 2>&1 &
  started smtp-sink $!

  wait_port 3310 300          # clamd loads its (one-signature) database
  clamav-milter --config-file="$RUN/clamav/clamav-milter.conf" >"$RUN/clamav-milter.out" 2>&1 &
  started clamav-milter $!
  wait_port 8891; wait_port 8893; wait_port 8894; wait_port 10024 300
  [ "$WITH_RSPAMD" = 1 ] && wait_port 11332 300
  postfix start
  sleep 2
  postfix status
elif [ "$cmd" = stop ]; then
  postfix stop || true
  sleep 2
  while read -r name pid; do
    [ "$name" = rsyslogd ] && continue
    kill "$pid" 2>/dev/null || true
  done < "$RUN/pids"
  sleep 3
  while read -r name pid; do
    [ "$name" = rsyslogd ] && continue
    kill -0 "$pid" 2>/dev/null && { sleep 2; kill -9 "$pid" 2>/dev/null || true; }
  done < "$RUN/pids"
  # rsyslogd last, so that the final lines are written
  [ -f "$RUN/rsyslogd.pid" ] && kill "$(cat "$RUN/rsyslogd.pid")" 2>/dev/null || true
  sleep 1
fi
