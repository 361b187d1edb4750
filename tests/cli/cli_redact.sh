# guard redact / unredact: each mode on text, JSON records and JSON lines,
# key files, the encrypt round trip, bad lines and usage errors.
set -eu
. "$(dirname "$0")/lib.sh"

P=$HERE/redact/pii.yaml
printf 'mail jo.doe@mail.example.org, call 555-0123, token acct-123-4567.\n' \
    >"$TMP/in.txt"

# replace (the default)
expect 0 "$GUARD" redact --rules "$P" "$TMP/in.txt"
[ "$(cat "$TMP/out")" = "mail <EMAIL>, call <PHONE>, token <SECRET>." ] ||
    fail "replace: $(cat "$TMP/out")"
# from stdin, only secrets
expect_in 0 "$TMP/in.txt" "$GUARD" redact --rules "$P" --categories secret -
[ "$(cat "$TMP/out")" = \
  "mail jo.doe@mail.example.org, call 555-0123, token <SECRET>." ] ||
    fail "categories: $(cat "$TMP/out")"

# mask
expect 0 "$GUARD" redact --rules "$P" --mode mask --mask-keep 2 \
    --mask-char '#' "$TMP/in.txt"
[ "$(cat "$TMP/out")" = \
  "mail #####################rg, call ######23, token ###########67." ] ||
    fail "mask: $(cat "$TMP/out")"

# a zero-width space inside the address: found in the normalized view and
# redacted over the original bytes
printf 'to jo\342\200\213e@example.org!' >"$TMP/zw.txt"
expect 0 "$GUARD" redact --rules "$P" "$TMP/zw.txt"
[ "$(cat "$TMP/out")" = "to <EMAIL>!" ] || fail "zwsp: $(cat "$TMP/out")"

# keys: --new-key gives 64 hex digits; raw 32-byte keys work too
expect 0 "$GUARD" redact --new-key
grep -Eqx '[0-9a-f]{64}' "$TMP/out" || fail "--new-key: $(cat "$TMP/out")"
cp "$TMP/out" "$TMP/key.hex"
expect 0 "$GUARD" redact --new-key
cp "$TMP/out" "$TMP/key2.hex"
head -c 32 /dev/urandom >"$TMP/key.bin"

# hash: deterministic per key, different across keys
expect 0 "$GUARD" redact --rules "$P" --mode hash --key-file "$TMP/key.hex" \
    "$TMP/in.txt"
grep -Eq '^mail <EMAIL:[0-9a-f]{16}>, call <PHONE:[0-9a-f]{16}>, token <SECRET:[0-9a-f]{16}>\.$' \
    "$TMP/out" || fail "hash: $(cat "$TMP/out")"
cp "$TMP/out" "$TMP/h1"
expect 0 "$GUARD" redact --rules "$P" --mode hash --key-file "$TMP/key.hex" \
    "$TMP/in.txt"
cmp -s "$TMP/out" "$TMP/h1" || fail "hash is not deterministic"
expect 0 "$GUARD" redact --rules "$P" --mode hash --key-file "$TMP/key2.hex" \
    "$TMP/in.txt"
cmp -s "$TMP/out" "$TMP/h1" && fail "hash ignores the key"

# encrypt -> unredact restores the input exactly (NUL bytes and UTF-8 too)
printf 'a\000b \303\251 jo.doe@mail.example.org\n555-0123\000 end' \
    >"$TMP/bin.txt"
for k in key.hex key.bin; do
    expect 0 "$GUARD" redact --rules "$P" --mode encrypt \
        --key-file "$TMP/$k" "$TMP/bin.txt"
    cp "$TMP/out" "$TMP/enc"
    grep -q 'jo.doe' "$TMP/enc" && fail "encrypt left the address"
    grep -q '<EMAIL:e:' "$TMP/enc" || fail "encrypt: no token"
    expect 0 "$GUARD" unredact --key-file "$TMP/$k" "$TMP/enc"
    cmp -s "$TMP/out" "$TMP/bin.txt" || fail "unredact did not restore ($k)"
done
# the wrong key: left as is, exit 1
expect 1 "$GUARD" unredact --key-file "$TMP/key2.hex" "$TMP/enc"
cmp -s "$TMP/out" "$TMP/enc" || fail "wrong key changed the text"
stderr_has '2 tokens did not authenticate'

# one JSON record, default fields and --field
cat >"$TMP/rec.json" <<'JSON'
{"model": "m", "messages": [{"role": "user", "content": "I am jo.doe@mail.example.org"}], "meta": {"phone": "555-0123"}}
JSON
expect 0 "$GUARD" redact --rules "$P" --json-record "$TMP/rec.json"
[ "$(cat "$TMP/out")" = \
  '{"model": "m", "messages": [{"role": "user", "content": "I am <EMAIL>"}], "meta": {"phone": "555-0123"}}' ] ||
    fail "json-record: $(cat "$TMP/out")"
expect 0 "$GUARD" redact --rules "$P" --json-record --field meta.phone \
    "$TMP/rec.json"
[ "$(cat "$TMP/out")" = \
  '{"model": "m", "messages": [{"role": "user", "content": "I am jo.doe@mail.example.org"}], "meta": {"phone": "<PHONE>"}}' ] ||
    fail "--field: $(cat "$TMP/out")"

# JSON lines: one output line per record; bad lines reported, not written
cat >"$TMP/log.jsonl" <<'JSON'
{"prompt": "call 555-0123"}
{"choices": [{"message": {"content": "mail jo.doe@mail.example.org"}}]}

{"prompt": "broken
{"prompt": "no pii here"}
{"prompt": "a", "prompt": "555-0123"}
{"id": 18446744073709551617, "prompt": "x\u0041 555-0123", "t": 0.10}
JSON
expect 2 "$GUARD" redact --rules "$P" --jsonl "$TMP/log.jsonl"
[ "$(sed -n 1p "$TMP/out")" = '{"prompt": "call <PHONE>"}' ] ||
    fail "jsonl line 1: $(sed -n 1p "$TMP/out")"
[ "$(sed -n 2p "$TMP/out")" = \
  '{"choices": [{"message": {"content": "mail <EMAIL>"}}]}' ] ||
    fail "jsonl line 2"
[ "$(sed -n 3p "$TMP/out")" = '' ] || fail "jsonl blank line"
[ "$(sed -n 4p "$TMP/out")" = '{"prompt": "no pii here"}' ] ||
    fail "jsonl line 5: $(sed -n 4p "$TMP/out")"
[ "$(sed -n 5p "$TMP/out")" = \
  '{"id": 18446744073709551617, "prompt": "x\u0041 <PHONE>", "t": 0.10}' ] ||
    fail "jsonl line 7: $(sed -n 5p "$TMP/out")"
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail "jsonl: wrong line count"
grep -q '555-0123' "$TMP/out" && fail "jsonl leaked a value"
stderr_has "log.jsonl:4: error: invalid JSON"
stderr_has "log.jsonl:6: error: invalid JSON \(or a duplicate key\)"
stderr_has "2 bad lines"
# JSON lines encrypted and restored line by line
expect 0 "$GUARD" redact --rules "$P" --jsonl --mode encrypt \
    --key-file "$TMP/key.hex" --field prompt - <<'JSON'
{"prompt": "call 555-0123"}
JSON
cp "$TMP/out" "$TMP/enc.jsonl"
expect 0 "$GUARD" unredact --key-file "$TMP/key.hex" "$TMP/enc.jsonl"
[ "$(cat "$TMP/out")" = '{"prompt": "call 555-0123"}' ] ||
    fail "jsonl round trip: $(cat "$TMP/out")"

# help and usage errors
expect 0 "$GUARD" help redact
stdout_has '^Usage: guard redact'
expect 0 "$GUARD" unredact --help
stdout_has '^Usage: guard unredact'
expect 2 "$GUARD" redact --mode scramble "$TMP/in.txt"
stderr_has "guard: redact: --mode: expected replace, mask, hash or encrypt"
expect 2 "$GUARD" redact --mode hash "$TMP/in.txt"
stderr_has "needs --key-file"
expect 2 "$GUARD" redact --categories pii,nope "$TMP/in.txt"
stderr_has "unknown category"
expect 2 "$GUARD" redact --jsonl --field 'messages[*' "$TMP/in.txt"
stderr_has "invalid path 'messages\[\*'"
expect 2 "$GUARD" redact --field prompt "$TMP/in.txt"
stderr_has "needs --jsonl or --json-record"
expect 2 "$GUARD" redact --mask-char ab "$TMP/in.txt"
printf 'short' >"$TMP/badkey"
expect 2 "$GUARD" redact --rules "$P" --mode encrypt --key-file "$TMP/badkey" \
    "$TMP/in.txt"
stderr_has "32 bytes or 64 hex digits"
expect 2 "$GUARD" unredact "$TMP/in.txt"
stderr_has "--key-file is required"
expect 2 "$GUARD" redact --rules "$P" --json-record "$TMP/in.txt"
stderr_has "invalid JSON"
expect 2 "$GUARD" redact --rules "$P" "$TMP/missing.txt"
echo "cli_redact: ok"
