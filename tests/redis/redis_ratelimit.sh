#!/bin/sh
# The Redis rate limiter against a real redis-server started here, on
# 127.0.0.1 on a free port, with its own directory and pid file:
#  1. two processes hammering one key together admit exactly the burst;
#  2. a flushed script cache is survived (EVALSHA -> NOSCRIPT -> EVAL);
#  3. Redis stopped mid-run: fail-open admits, fail-closed denies, both
#     flagged degraded; Redis frozen (SIGSTOP): the same within the
#     timeout; Redis back: both recover without a restart of the client.
# Skipped (77) when redis-server is not installed.
#
#   redis_ratelimit.sh RL_REDIS_CLIENT
set -eu
client=$1
command -v redis-server >/dev/null 2>&1 || { echo "redis-server not installed: skipped"; exit 77; }
command -v redis-cli >/dev/null 2>&1 || { echo "redis-cli not installed: skipped"; exit 77; }

tmp=$(mktemp -d)
pidfile=$tmp/redis.pid
stop_redis() {
    if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile")
        kill -CONT "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        i=0
        # Gone, or a zombie (a daemon's parent, init, may not reap it).
        while kill -0 "$pid" 2>/dev/null &&
            ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
            [ $i -lt 100 ]; do
            sleep 0.05; i=$((i + 1))
        done
        rm -f "$pidfile"
    fi
}
cleanup() { stop_redis; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_redis() {
    redis-server --bind 127.0.0.1 --port "$port" --dir "$tmp" \
        --pidfile "$pidfile" --logfile "$tmp/redis.log" --daemonize yes \
        --save '' --appendonly no >/dev/null
    i=0
    until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "redis-server did not start"
        sleep 0.05
    done
    i=0
    until [ -s "$pidfile" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "no pid file"; sleep 0.05
    done
}
start_redis
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$port, pid $(cat "$pidfile")"

# 1. Two processes, one key, burst 200 (1/18 s refill: none in this test).
"$client" burst "$port" shared 400 200 1 >"$tmp/a.out" &
a=$!
"$client" burst "$port" shared 400 200 16 >"$tmp/b.out" &
b=$!
wait $a || fail "client a failed"
wait $b || fail "client b failed"
cat "$tmp/a.out" "$tmp/b.out"
sum=$(cat "$tmp/a.out" "$tmp/b.out" | awk '{a += $2; d += $4; g += $6} END {print a, d, g}')
[ "$sum" = "200 600 0" ] || fail "two processes: admitted/denied/degraded $sum, want 200 600 0"
# The bucket expires once full again (1 hour for 200 at 200/h: > 59 min left).
ttl=$(redis-cli -p "$port" pttl lgtest:shared)
[ "$ttl" -gt 3540000 ] && [ "$ttl" -le 3600001 ] || fail "bucket TTL $ttl ms"
echo "two processes: 200 admitted of 800, bucket expires in $ttl ms"

# 2. NOSCRIPT fallback.
"$client" noscript "$port" flushed || fail "NOSCRIPT fallback"

# 3. Outage: two clients (fail open, fail closed), one decision every 20 ms
# for 6 s.  Redis is stopped at ~1 s, restarted at ~2 s, frozen (SIGSTOP)
# at ~3 s for 0.6 s.  The times of these events, in ms since the clients
# started, go to the checks (a loaded machine shifts them).
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
t0=$(date +%s%N)
"$client" run "$port" open 6000 20 1 >"$tmp/open.out" &
o=$!
"$client" run "$port" closed 6000 20 0 >"$tmp/closed.out" &
c=$!
sleep 1
stop_at=$(ms)
stop_redis
sleep 1
start_redis
restart_at=$(ms)
sleep 1
pid=$(cat "$pidfile")
freeze_at=$(ms)
kill -STOP "$pid"
sleep 0.6
kill -CONT "$pid"
thaw_at=$(ms)
wait $o || fail "fail-open client failed"
wait $c || fail "fail-closed client failed"
echo "events (ms): stopped $stop_at, restarted $restart_at, frozen $freeze_at, thawed $thaw_at"

# Per client: healthy decisions before, degraded ones during, healthy after
# (the clients retry 100 ms after a failure), each degraded decision
# following the policy, none waiting much longer than the 100 ms timeout.
check() {
    file=$1 policy=$2 name=$3
    awk -v want="$policy" -v name="$name" -v stop="$stop_at" \
        -v restart="$restart_at" -v freeze="$freeze_at" -v thaw="$thaw_at" '
        { n++ }
        $3 == 0 && $2 != 1 { print name ": healthy decision denied: " $0; bad = 1 }
        $3 == 1 && $2 != want { print name ": degraded decision not " want ": " $0; bad = 1 }
        $3 == 1 { deg++; if ($4 > lat) lat = $4 }
        $3 == 1 && $0 ~ /refused|closed|reset/ { down++ }
        $3 == 1 && $0 ~ /temporarily unavailable|timed out/ { frozen++ }
        $1 < stop - 100 && $3 == 1 { print name ": degraded before the outage: " $0; bad = 1 }
        $1 > thaw + 400 && $3 == 1 { print name ": not recovered after the freeze: " $0; bad = 1 }
        $1 < stop - 100 && $3 == 0 { before = 1 }
        $1 > restart + 400 && $1 < freeze && $3 == 0 { back2 = 1 }
        $1 > thaw + 400 && $3 == 0 { back3 = 1 }
        END {
            if (!before) { print name ": no healthy decision before the outage"; bad = 1 }
            if (!back2) { print name ": no recovery after the restart"; bad = 1 }
            if (!back3) { print name ": no recovery after the freeze"; bad = 1 }
            if (down < 10) { print name ": " down " degraded while stopped"; bad = 1 }
            if (frozen < 1) { print name ": no timeout while frozen"; bad = 1 }
            if (lat > 450000) { print name ": a degraded decision took " lat " us"; bad = 1 }
            printf "%s: %d decisions, %d degraded (%d refused/closed, %d timed out), slowest degraded %d us\n", name, n, deg, down, frozen, lat
            exit bad
        }' "$file"
}
ok=0
check "$tmp/open.out" 1 fail-open || ok=1
check "$tmp/closed.out" 0 fail-closed || ok=1
if [ $ok -ne 0 ]; then
    echo "--- fail-open client output (degraded lines) ---"
    awk '$3 == 1' "$tmp/open.out" | head -20
    exit 1
fi
echo "redis rate limit: all checks passed"
