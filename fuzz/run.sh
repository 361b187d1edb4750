#!/bin/sh
# Fuzz each target for a while by hand and summarize the runs.
#
#   fuzz/run.sh [-t SECONDS] [-m] BUILD_DIR [TARGET...] [-- LIBFUZZER_ARGS...]
#
# BUILD_DIR is a build configured as in fuzz/CMakeLists.txt (clang,
# -DLG_SANITIZE=address,undefined -DLG_BUILD_FUZZERS=ON).  TARGETs default
# to every fuzz_<target>.c in fuzz/; each runs for SECONDS
# (default 600, or $LG_FUZZ_SECONDS), one by one, with its .dict and .options.
# The run starts from fuzz/corpus/<target> (never written) plus what earlier
# runs kept in BUILD_DIR/fuzz/corpus-run/<target>; crashes, leaks and
# timeouts go to fuzz/crashes/<target>/ (ignored by git: minimize them with
# -minimize_crash=1 and commit the reproducer under fuzz/corpus/<target>/).
# -m merges the inputs that add coverage into fuzz/corpus/<target>.
# Logs: BUILD_DIR/fuzz/logs/<target>.log.  Exit status 1 if anything crashed.
set -eu
# The logs quote inputs byte for byte: parse them as bytes, not as text.
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
seconds=${LG_FUZZ_SECONDS:-600}
merge=0
while getopts t:m opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    m) merge=1 ;;
    *) sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
    sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
targets=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    targets="$targets $1"
    shift
done
[ $# -gt 0 ] && shift # the --; the rest goes to libFuzzer
# Default: every fuzz_<target>.c here.
[ -n "$targets" ] || targets=$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')

# Options from <target>.options ("name = number" lines) as -name=number.
options() {
    sed -n 's/^\([a-z_]*\) *= *\([0-9][0-9]*\) *$/-\1=\2/p' \
        "$here/fuzz_$1.options"
}

summary=
failed=0
for t in $targets; do
    bin=$build/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin not built (configure with -DLG_BUILD_FUZZERS=ON)" >&2
        exit 2
    fi
    corpus=$build/fuzz/corpus-run/$t
    crashes=$here/crashes/$t
    log=$build/fuzz/logs/$t.log
    mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
    before=$(ls "$crashes" | wc -l)
    echo "== fuzz_$t: ${seconds}s, log $log"
    # shellcheck disable=SC2046 # options are words by design
    "$bin" $(options "$t") -max_total_time="$seconds" \
        -dict="$here/fuzz_$t.dict" -artifact_prefix="$crashes/" \
        -print_final_stats=1 "$@" "$corpus" "$here/corpus/$t" >"$log" 2>&1 ||
        true
    after=$(ls "$crashes" | wc -l)
    # libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/S ..."
    last=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    new=$((after - before))
    if [ "$new" -gt 0 ] || grep -q '^SUMMARY: ' "$log"; then
        failed=1
        grep -m 3 -E '^(SUMMARY|==[0-9]+==ERROR)|invariant violated' \
            "$log" || true
    fi
    summary="$summary$(printf '%-13s %10s %8s %6s %7s %6s %6s %7s' "$t" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
        "${rss:-?}" "$new")
"
    if [ "$merge" = 1 ]; then
        # shellcheck disable=SC2046
        "$bin" $(options "$t") -merge=1 "$here/corpus/$t" "$corpus" \
            >>"$log" 2>&1 || true
    fi
done

printf '%-13s %10s %8s %6s %7s %6s %6s %7s\n' target execs exec/s cov ft \
    corpus rssMB crashes
printf '%s' "$summary"
exit $failed
