#!/bin/bash
# Start/stop the loopback test peers, rsyslogd and Postfix. PIDs of what we start go to $RUN/pids.
RUN=${RUN:-/tmp/pfcorpus2}
TOOLS=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-start}
if [ "$cmd" = start ]; then
  : > "$RUN/pids"
  rm -f "$RUN/rsyslogd.pid"
  rsyslogd -f "$RUN/rsyslog.conf" -i "$RUN/rsyslogd.pid"
  sleep 1; echo "rsyslogd $(cat $RUN/rsyslogd.pid)" >> "$RUN/pids"
  sink() { # name addr:port args...
    local name=$1; shift; local ap=$1; shift
    smtp-sink -u nobody -h "$name" "$@" "$ap" 256 >"$RUN/sink-$name.out" 2>&1 &
    echo "smtp-sink:$name $!" >> "$RUN/pids"
  }
  sink mx.ok.test        127.0.0.11:25
  sink mx.hardfail.test  127.0.0.12:25 -f RCPT -B "550 5.1.1 Recipient address rejected: User unknown in relay recipient table"
  sink mx.softfail.test  127.0.0.13:25 -r RCPT -b "451 4.7.1 Greylisted, please try again later"
  sink mx.datafail.test  127.0.0.14:25 -f . -B "554 5.7.1 Message rejected as spam by content filter"
  sink lmtp.store.test   127.0.0.16:24 -L
  sink mx.greet421.test  127.0.0.17:25 -Q CONNECT
  sink mx.dropconn.test  127.0.0.18:25 -q .
  rm -f "$RUN/remote_mx.ready"
  RUN=$RUN /usr/bin/python3 "$TOOLS/remote_mx.py" >"$RUN/remote_mx.out" 2>&1 &
  echo "remote_mx $!" >> "$RUN/pids"
  for i in $(seq 1 50); do [ -f "$RUN/remote_mx.ready" ] && break; sleep 0.2; done
  # second corpus: misbehaving MX peers, before-queue proxy filter, policy server, milter
  rm -f "$RUN/peers.ready"
  RUN=$RUN /usr/bin/python3 "$TOOLS/peers.py" >"$RUN/peers.out" 2>&1 &
  echo "peers $!" >> "$RUN/pids"
  MILTER_LOG=$RUN/milter.log /usr/bin/python3 "$TOOLS/pfi_milter.py" inet:8891@127.0.0.1 >"$RUN/milter.out" 2>&1 &
  echo "milter $!" >> "$RUN/pids"
  for i in $(seq 1 50); do [ -f "$RUN/peers.ready" ] && break; sleep 0.2; done
  for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/8891) 2>/dev/null && break; sleep 0.2; done
  postfix start
  sleep 2
  postfix status
elif [ "$cmd" = stop ]; then
  postfix stop || true
  sleep 2
  while read -r name pid; do
    [ "${name%%:*}" = rsyslogd ] && continue
    kill "$pid" 2>/dev/null || true
  done < "$RUN/pids"
  sleep 1
  # rsyslogd last, so that the final postfix lines are written
  [ -f "$RUN/rsyslogd.pid" ] && kill "$(cat "$RUN/rsyslogd.pid")" 2>/dev/null || true
  sleep 1
fi
