# guard unredact --jsonl / --json-record: records redacted with
# 'guard redact --jsonl --mode encrypt' come back byte for byte (quotes,
# backslashes, \u escapes, non-ASCII text and newlines in and around the
# redacted values); a wrong key or an edited token, and lines that are not
# JSON, are reported with their line and column and not written.
set -eu
. "$(dirname "$0")/lib.sh"

P=$HERE/redact/pii.yaml
# A made-up rule whose matches hold quotes, backslashes and newlines.
cat >"$TMP/sec.yaml" <<'YAML'
version: 1
pack: clisec
pack_version: "1.0.0"
description: Made-up secret in brackets, for the unredact --jsonl test
views: [raw]
rules:
  - id: cli.secret.bracket
    category: secret
    description: Anything inside sec[...]
    severity: critical
    applies_to: both
    patterns: ['sec\[[^\]]{1,40}\]']
    tests:
      match: ["sec[x]"]
      no_match: ["sec[]"]
YAML

expect 0 "$GUARD" redact --new-key
cp "$TMP/out" "$TMP/key.hex"
expect 0 "$GUARD" redact --new-key
cp "$TMP/out" "$TMP/key2.hex"

cat >"$TMP/in.jsonl" <<'JSON'
{"model": "m", "messages": [{"role": "user", "content": "mail jo.doe@mail.example.org \"quoted\" back\\slash\nline caf\u00e9 café 中 \ud83d\ude00 \/"}]}
{"prompt": "x sec[a\"b\\c\nd\te\u0001 é中] y", "n": 123456789012345678901234567890}

{"prompt": "no secret here \u0041"}
{"choices": [{"message": {"content": "call 555-0123 or sec[\"\\\"]\r\n"}}], "t": 1.10}
JSON

expect 0 "$GUARD" redact --rules "$P" --rules "$TMP/sec.yaml" --jsonl \
    --mode encrypt --key-file "$TMP/key.hex" "$TMP/in.jsonl"
cp "$TMP/out" "$TMP/enc.jsonl"
for v in jo.doe 'sec\[' 555-0123 'é中'; do
    grep -q -- "$v" "$TMP/enc.jsonl" && fail "redact left '$v'"
done
[ "$(grep -c ':e:' "$TMP/enc.jsonl")" -eq 3 ] || fail "expected 3 records with tokens"

# The round trip, from a file and from stdin.
expect 0 "$GUARD" unredact --key-file "$TMP/key.hex" --jsonl "$TMP/enc.jsonl"
cmp -s "$TMP/out" "$TMP/in.jsonl" || {
    diff "$TMP/in.jsonl" "$TMP/out" >&2 || true
    fail "unredact --jsonl did not restore the records byte for byte"
}
expect_in 0 "$TMP/enc.jsonl" "$GUARD" unredact --key-file "$TMP/key.hex" \
    --jsonl -
cmp -s "$TMP/out" "$TMP/in.jsonl" || fail "unredact --jsonl from stdin"
# Every line is JSON (the plain text unredaction, not JSON-aware, writes
# the restored quotes and newline of line 2 raw: issue 5).
python3 - "$TMP/out" <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8").read().split("\n"):
    if l.strip():
        json.loads(l)
PY
expect 0 "$GUARD" unredact --key-file "$TMP/key.hex" "$TMP/enc.jsonl"
if python3 - "$TMP/out" 2>/dev/null <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8").read().split("\n"):
    if l.strip():
        json.loads(l)
PY
then
    fail "text unredact gave valid JSON lines?"
fi

# One record: --json-record.
sed -n 2p "$TMP/enc.jsonl" | tr -d '\n' >"$TMP/rec.json"
expect 0 "$GUARD" unredact --key-file "$TMP/key.hex" --json-record \
    "$TMP/rec.json"
[ "$(cat "$TMP/out")" = "$(sed -n 2p "$TMP/in.jsonl")" ] ||
    fail "--json-record: $(cat "$TMP/out")"

# Another key: the records with tokens are reported and not written; the
# others are; exit 1.
expect 1 "$GUARD" unredact --key-file "$TMP/key2.hex" --jsonl "$TMP/enc.jsonl"
printf '\n{"prompt": "no secret here \\u0041"}\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || fail "wrong key wrote: $(cat "$TMP/out")"
stderr_has "enc.jsonl:1:[0-9]+: error: a token does not authenticate with this key"
stderr_has "enc.jsonl:2:[0-9]+: error: a token does not authenticate"
stderr_has "enc.jsonl:5:[0-9]+: error: a token does not authenticate"
stderr_has "3 records not restored"
# The column is the token's '<'.
col=$(sed -n 's/.*enc\.jsonl:2:\([0-9]*\):.*/\1/p' "$TMP/err")
[ "$(sed -n 2p "$TMP/enc.jsonl" | cut -c "$col")" = "<" ] ||
    fail "column $col is not the token"
expect 1 "$GUARD" unredact --key-file "$TMP/key2.hex" --json-record \
    "$TMP/rec.json"
[ ! -s "$TMP/out" ] || fail "--json-record wrote a record it could not restore"
stderr_has "rec.json:[0-9]+: error: a token does not authenticate"

# An edited token (line 2): that record alone is refused.
sed '2s/:e:\(.\)/:e:A\1/' "$TMP/enc.jsonl" >"$TMP/edited.jsonl"
expect 1 "$GUARD" unredact --key-file "$TMP/key.hex" --jsonl \
    "$TMP/edited.jsonl"
[ "$(wc -l <"$TMP/out")" -eq 4 ] || fail "edited: wrong line count"
grep -q 'jo.doe@mail.example.org' "$TMP/out" || fail "edited: line 1 lost"
stderr_has "edited.jsonl:2:[0-9]+: error: a token does not authenticate"
stderr_has "1 record not restored"

# Lines that are not JSON: line and column, not written, exit 2 (also
# when other lines only had bad tokens).
printf '{"prompt": "ok"}\nnot json\n{"prompt": "x"\n[1,]\n' >"$TMP/bad.jsonl"
sed -n 1p "$TMP/enc.jsonl" >>"$TMP/bad.jsonl"
expect 2 "$GUARD" unredact --key-file "$TMP/key2.hex" --jsonl \
    "$TMP/bad.jsonl"
[ "$(cat "$TMP/out")" = '{"prompt": "ok"}' ] || fail "bad: $(cat "$TMP/out")"
stderr_has "bad.jsonl:2:2: error: invalid JSON"
stderr_has "bad.jsonl:3:15: error: invalid JSON"
stderr_has "bad.jsonl:4:4: error: invalid JSON"
stderr_has "bad.jsonl:5:[0-9]+: error: a token does not authenticate"
stderr_has "4 records not restored"
printf '{"a": "\\u0041' >"$TMP/bad.json"
expect 2 "$GUARD" unredact --key-file "$TMP/key.hex" --json-record \
    "$TMP/bad.json"
stderr_has "bad.json:14: error: invalid JSON"

# Help and usage.
expect 0 "$GUARD" unredact --help
stdout_has -- '--jsonl'
expect 2 "$GUARD" unredact --key-file "$TMP/key.hex" --jsonl --json-record \
    "$TMP/enc.jsonl"
stderr_has "exclude each other"
expect 2 "$GUARD" unredact --key-file "$TMP/key.hex" --jsonl \
    "$TMP/missing.jsonl"
echo "cli_unredact_json: ok"
