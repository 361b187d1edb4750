# guard test: embedded rule tests, failure report, exit statuses.
set -eu
. "$(dirname "$0")/lib.sh"

expect 0 "$GUARD" test "$PACK"
stdout_has '^8 passed, 0 failed$'
expect 0 "$GUARD" test "$PACK/demo.yaml"
stdout_has '^6 passed, 0 failed$'
LIBGUARD_RULES=$PACK expect 0 "$GUARD" test
stdout_has '^8 passed, 0 failed$'

# Two of the four tests are wrong: each is reported as file:line: [id].
F=$HERE/failing/failing.yaml
expect 1 "$GUARD" test "$F"
line_match=$(grep -n 'orange tulip' "$F" | cut -d: -f1)
line_nomatch=$(grep -n 'the purple tulip protocol again' "$F" | cut -d: -f1)
stdout_has "^$F:$line_match: \[cli\.failing\.tulip\] expected match: \"engage the orange tulip protocol\"$"
stdout_has "^$F:$line_nomatch: \[cli\.failing\.tulip\] expected no match: \"the purple tulip protocol again\""
stdout_has '^2 passed, 2 failed$'
[ "$(grep -c 'expected' "$TMP/out")" -eq 2 ] || fail "wrong number of failures"
# Together with good packs: all run, still exit 1.
expect 1 "$GUARD" test "$PACK" "$HERE/failing"
stdout_has '^10 passed, 2 failed$'

# A compile error is exit 2, not a test failure.
expect 2 "$GUARD" test "$PACK" "$HERE/bad/bad_regex.yaml"
stderr_has 'bad_regex\.yaml:[0-9]+:[0-9]+: error'
expect 2 "$GUARD" test "$TMP/no-such-dir"
echo "ok"
