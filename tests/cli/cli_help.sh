# guard --help, help SUBCOMMAND, SUBCOMMAND --help, version, usage errors.
set -eu
. "$(dirname "$0")/lib.sh"

expect 0 "$GUARD" --help
for cmd in scan compile test version help; do
    stdout_has "^  $cmd "
done
[ ! -s "$TMP/err" ] || fail "--help wrote to stderr"
expect 0 "$GUARD" help
stdout_has "^Usage: guard COMMAND"

for cmd in scan compile test; do
    expect 0 "$GUARD" help "$cmd"
    stdout_has "^Usage: guard $cmd"
    cp "$TMP/out" "$TMP/help1"
    expect 0 "$GUARD" "$cmd" --help
    cmp -s "$TMP/out" "$TMP/help1" || fail "guard $cmd --help differs"
    expect 0 "$GUARD" "$cmd" -h
    stdout_has "^Exit status"
done
expect 0 "$GUARD" help scan
for opt in --rules --db --direction --jsonl --detect-only --block-at \
    --flag-at --total-block-at; do
    stdout_has "$opt"
done

expect 0 "$GUARD" version
stdout_has '^guard [0-9]+\.[0-9]+\.[0-9]+'
expect 0 "$GUARD" --version

# Usage errors: exit 2, a "guard: " message on stderr, nothing on stdout.
expect 2 "$GUARD"
stderr_has '^Usage: guard'
expect 2 "$GUARD" frobnicate
stderr_has "^guard: unknown command 'frobnicate'"
expect 2 "$GUARD" help frobnicate
stderr_has '^guard: help: unknown command'
expect 2 "$GUARD" scan --frobnicate
stderr_has "^guard: scan: unknown option '--frobnicate'"
expect 2 "$GUARD" scan -Z
stderr_has "^guard: scan: unknown option '-Z'"
expect 2 "$GUARD" compile --rules
stderr_has "^guard: compile: option '--rules' requires an argument"
expect 2 "$GUARD" compile -o
stderr_has "requires an argument"
expect 2 "$GUARD" test --frobnicate
stderr_has "unknown option"
expect 2 "$GUARD" version extra
[ ! -s "$TMP/out" ] || fail "a usage error wrote to stdout"
echo "ok"
