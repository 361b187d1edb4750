# Helpers sourced by the cli_*.sh tests.  Arguments: GUARD SOURCE_DIR.
GUARD=$1
SRC=$2
HERE=$SRC/tests/cli
PACK=$HERE/pack
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset LIBGUARD_RULES
# Sanitizer builds: a report must not pass for exit 1 ("blocked").
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
    export "$v=${!v:+${!v}:}exitcode=23"
done

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run CMD...: stdout in $TMP/out, stderr in $TMP/err, exit status in $rc.
run() {
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    set -e
}

# expect STATUS CMD...: run CMD and require exit STATUS.
expect() {
    local want=$1
    shift
    run "$@"
    if [ "$rc" -ne "$want" ]; then
        echo "--- stdout" >&2; cat "$TMP/out" >&2
        echo "--- stderr" >&2; cat "$TMP/err" >&2
        fail "expected exit $want, got $rc: $*"
    fi
}

# expect_in STATUS INPUT CMD...: as expect, with INPUT on stdin.
expect_in() {
    local want=$1 input=$2
    shift 2
    expect "$want" sh -c '"$@" <"$0"' "$input" "$@"
}

# stderr_has REGEX: the last command's stderr matches REGEX.
stderr_has() {
    grep -Eq -- "$1" "$TMP/err" || {
        cat "$TMP/err" >&2
        fail "stderr lacks /$1/"
    }
}

stdout_has() {
    grep -Eq -- "$1" "$TMP/out" || {
        cat "$TMP/out" >&2
        fail "stdout lacks /$1/"
    }
}

# check PYTHON [INPUT]: run Python assertions on the last stdout, parsed as
# JSON lines: `lines` (all objects), `o` (the first), `data` (INPUT bytes).
# A single-object scan must print exactly one line.
check() {
    python3 - "$TMP/out" "$@" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8")
assert raw.endswith("\n"), "output does not end with a newline"
lines = [json.loads(l) for l in raw.splitlines()]
o = lines[0] if lines else None
data = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else None

def verdict_shape(v, detect_only=False, line=False):
    keys = {"verdict", "score", "categories", "findings"}
    if detect_only:
        keys.add("would_block")
    if line:
        keys.add("line")
    assert set(v) - {"truncated"} == keys, sorted(v)
    assert v["verdict"] in ("allow", "flag", "block"), v
    assert isinstance(v["score"], int) and v["score"] >= 0, v
    assert isinstance(v["categories"], list), v
    for f in v["findings"]:
        assert set(f) == {"rule", "category", "severity", "start", "end",
                          "views"}, f
        assert f["views"] and set(f["views"]) <= {
            "raw", "normalized", "leet", "decoded"}, f
        assert 0 <= f["start"] < f["end"], f
        assert f["category"] in v["categories"], v
    return True

exec(sys.argv[2])
PY
}
