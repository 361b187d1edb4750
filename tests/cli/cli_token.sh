# guard token: keygen, issue and verify; exit statuses 0 (valid), 1
# (invalid token), 2 (usage); the PASETO vectors through the raw-key options.
set -eu
. "$(dirname "$0")/lib.sh"

VEC=$SRC/tests/vectors

# ---- keygen ----
expect 0 "$GUARD" token keygen --local
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "keygen --local: not two lines"
grep -Eq '^k4\.local\.[A-Za-z0-9_-]{43}$' "$TMP/out" || fail "no k4.local line"
grep -Eq '^k4\.lid\.[A-Za-z0-9_-]{44}$' "$TMP/out" || fail "no k4.lid line"
LOCAL=$(sed -n 1p "$TMP/out")
LID=$(sed -n 2p "$TMP/out")
expect 0 "$GUARD" token keygen --public
[ "$(wc -l <"$TMP/out")" -eq 3 ] || fail "keygen --public: not three lines"
SECRET=$(grep '^k4\.secret\.' "$TMP/out")
PUBLIC=$(grep '^k4\.public\.' "$TMP/out")
grep -Eq '^k4\.pid\.[A-Za-z0-9_-]{44}$' "$TMP/out" || fail "no k4.pid line"
[ ${#SECRET} -eq 96 ] || fail "k4.secret has the wrong length: $SECRET"
expect 0 "$GUARD" token keygen --local
[ "$(sed -n 1p "$TMP/out")" != "$LOCAL" ] || fail "keygen repeated a key"

# ---- round trips ----
NOW=2026-01-01T00:00:00Z
CLAIMS='{"sub":"user-7","aud":"api.example","data":"x"}'
expect 0 "$GUARD" token issue --key "$LOCAL" --claims "$CLAIMS" --now $NOW
TOK_L=$(cat "$TMP/out")
case $TOK_L in v4.local.*.*) ;; *) fail "not a v4.local token with a footer: $TOK_L" ;; esac
expect 0 "$GUARD" token verify --key "$LOCAL" --now $NOW "$TOK_L"
check 'assert o == {"sub": "user-7", "aud": "api.example", "data": "x",
                    "exp": "2026-01-01T01:00:00Z",
                    "iat": "2026-01-01T00:00:00Z"}, o'
# The default footer names the key.
python3 - "$TOK_L" "$LID" <<'PY'
import base64, json, sys
foot = sys.argv[1].split(".")[3]
foot = json.loads(base64.urlsafe_b64decode(foot + "=" * (-len(foot) % 4)))
assert foot == {"kid": sys.argv[2]}, foot
PY

expect 0 "$GUARD" token issue --key "$SECRET" --claims "$CLAIMS" --now $NOW \
    --footer 'f1' --implicit 'tenant-9' --ttl 60
TOK_P=$(cat "$TMP/out")
case $TOK_P in v4.public.*.ZjE) ;; *) fail "not a v4.public token with footer f1: $TOK_P" ;; esac
expect 0 "$GUARD" token verify --key "$PUBLIC" --implicit tenant-9 \
    --footer f1 --now 2026-01-01T00:00:30Z --audience api.example \
    --subject user-7 "$TOK_P"
check 'assert o["exp"] == "2026-01-01T00:01:00Z", o'
# A k4.secret key verifies with its public half; stdin; a key file.
printf '%s\n' "$TOK_P" >"$TMP/tok"
expect_in 0 "$TMP/tok" "$GUARD" token verify --key "$SECRET" \
    --implicit tenant-9 --now $NOW -
printf '%s\n' "$PUBLIC" >"$TMP/pub.key"
expect 0 "$GUARD" token verify --key "@$TMP/pub.key" --implicit tenant-9 \
    --now $NOW "$TOK_P"
# No footer at all.
expect 0 "$GUARD" token issue --key "$LOCAL" --claims '{}' --footer '' --now $NOW
case $(cat "$TMP/out") in v4.local.*.*) fail "footer written" ;; esac
expect 0 "$GUARD" token verify --key "$LOCAL" --footer '' --now $NOW "$(cat "$TMP/out")"

# ---- invalid tokens: exit 1, one message, nothing on stdout ----
invalid() {
    expect 1 "$GUARD" token verify "$@"
    [ ! -s "$TMP/out" ] || fail "printed a payload: $*"
    [ "$(cat "$TMP/err")" = "guard: token verify: invalid token" ] ||
        fail "unexpected message: $(cat "$TMP/err")"
}
# Expired (exp 00:01:00, skew 60 s by default), and with --skew 0.
invalid --key "$PUBLIC" --implicit tenant-9 --now 2026-01-01T00:02:00Z "$TOK_P"
expect 0 "$GUARD" token verify --key "$PUBLIC" --implicit tenant-9 \
    --now 2026-01-01T00:01:59Z "$TOK_P"
invalid --key "$PUBLIC" --implicit tenant-9 --skew 0 \
    --now 2026-01-01T00:01:00Z "$TOK_P"
# Not yet valid.
expect 0 "$GUARD" token issue --key "$LOCAL" --now $NOW \
    --claims '{"nbf":"2026-01-01T00:10:00Z"}'
NBF=$(cat "$TMP/out")
invalid --key "$LOCAL" --now 2026-01-01T00:05:00Z "$NBF"
expect 0 "$GUARD" token verify --key "$LOCAL" --now 2026-01-01T00:09:30Z "$NBF"
# Issued in the future.
invalid --key "$LOCAL" --now 2025-12-31T23:58:00Z "$TOK_L"
# Wrong audience, issuer, subject.
invalid --key "$LOCAL" --now $NOW --audience api.other "$TOK_L"
invalid --key "$LOCAL" --now $NOW --issuer someone "$TOK_L"
invalid --key "$LOCAL" --now $NOW --subject user-8 "$TOK_L"
# Wrong footer or implicit assertion.
invalid --key "$PUBLIC" --implicit tenant-9 --footer f2 --now $NOW "$TOK_P"
invalid --key "$PUBLIC" --implicit tenant-8 --now $NOW "$TOK_P"
invalid --key "$PUBLIC" --now $NOW "$TOK_P"
# Another key; a key of the other purpose.
expect 0 "$GUARD" token keygen --local
OTHER=$(sed -n 1p "$TMP/out")
invalid --key "$OTHER" --now $NOW "$TOK_L"
invalid --key "$PUBLIC" --now $NOW "$TOK_L"
invalid --key "$LOCAL" --implicit tenant-9 --now $NOW "$TOK_P"
invalid --local-key 707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f \
    --now $NOW "$TOK_L"
# Tampered, truncated, other versions, garbage, oversized.
python3 - "$TOK_L" "$TMP" <<'PY'
import sys
t, d = sys.argv[1], sys.argv[2]
body_end = t.rindex(".")
mid = t[:20] + ("A" if t[20] != "A" else "B") + t[21:]
cases = {
    "flip": mid,
    "trunc": t[:len(t) // 2],
    "nofoot": t[:body_end],
    "footer": t[:body_end] + ".e30",
    "v3": "v3" + t[2:],
    "v2": "v2" + t[2:],
    "purpose": t.replace("v4.local.", "v4.public.", 1),
    "pad": t + "=",
    "garbage": "hello",
    "empty": "",
    "big": "v4.local." + "A" * 70000,
}
for k, v in cases.items():
    open(f"{d}/bad_{k}", "w").write(v)
PY
for c in flip trunc nofoot footer v3 v2 purpose pad garbage empty big; do
    invalid --key "$LOCAL" --now $NOW "$(cat "$TMP/bad_$c")"
done

# ---- key rings: the footer's kid picks the key ----
expect 0 "$GUARD" token issue --key "$OTHER" --claims '{"k":2}' --now $NOW
TOK_O=$(cat "$TMP/out")
expect 0 "$GUARD" token verify --key "$LOCAL" --key "$OTHER" --key "$PUBLIC" \
    --now $NOW "$TOK_O"
check 'assert o["k"] == 2, o'
expect 0 "$GUARD" token verify --key "$OTHER" --key "$LOCAL" --now $NOW "$TOK_L"
expect 0 "$GUARD" token keygen --local
invalid --key "$LOCAL" --key "$(sed -n 1p "$TMP/out")" --now $NOW "$TOK_O"
# A token without a kid cannot be matched in a ring.
invalid --key "$PUBLIC" --key "$LOCAL" --implicit tenant-9 --now $NOW "$TOK_P"

# ---- usage errors: exit 2 ----
usage() {
    expect 2 "$GUARD" token "$@"
    [ ! -s "$TMP/out" ] || fail "usage error printed to stdout: $*"
    stderr_has '^guard: token'
}
usage
usage frobnicate
usage keygen
usage keygen --local --public
usage keygen --local extra
usage issue --claims '{}'
usage issue --key "$LOCAL"
usage issue --key "$PUBLIC" --claims '{}'
usage issue --key "$LOCAL" --claims '[1]'
usage issue --key "$LOCAL" --claims '{"a":'
usage issue --key "$LOCAL" --claims '{"a":1,"a":2}'
usage issue --key "$LOCAL" --claims '{"exp":"2030-01-01T00:00:00Z"}' --ttl 5
usage issue --key "$LOCAL" --claims '{}' --ttl -5
usage issue --key "$LOCAL" --claims '{}' --now yesterday
usage issue --key "$LOCAL" --key "$OTHER" --claims '{}'
usage issue --key k3.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --claims '{}'
usage issue --key "$LID" --claims '{}'
expect 2 "$GUARD" token issue --key "@$TMP/no-such-key" --claims '{}'
stderr_has 'no-such-key: No such file'
usage verify "$TOK_L"
usage verify --key "$LOCAL"
usage verify --key "$LOCAL" "$TOK_L" extra
usage verify --key "$LOCAL" --key "$LOCAL" "$TOK_L"
usage verify --key "${LOCAL%?}" "$TOK_L"
usage verify --local-key 0011 "$TOK_L"
usage verify --public-key zz "$TOK_L"
usage verify --key "$LOCAL" --now 2026-13-01T00:00:00Z "$TOK_L"
usage verify --key "$LOCAL" --skew x "$TOK_L"
usage verify --key "$LOCAL" --bogus "$TOK_L"
expect 0 "$GUARD" token --help
stdout_has 'guard token verify'
expect 0 "$GUARD" help token
stdout_has 'k4\.secret'

# ---- the PASETO v4 vectors, through --local-key / --public-key ----
python3 - "$GUARD" "$VEC/paseto-v4.json" <<'PY'
import json, subprocess, sys
guard, vectors = sys.argv[1], sys.argv[2]
n = 0
for t in json.load(open(vectors))["tests"]:
    if t["name"].startswith("4-E"):
        opt, key = "--local-key", t["key"]
    elif t["name"].startswith("4-S"):
        opt, key = "--public-key", t["public-key"]
    else:
        opt = "--local-key" if t.get("key") else "--public-key"
        key = t.get("key") or t["public-key"]
    r = subprocess.run([guard, "token", "verify", opt, key,
                        "--footer", t["footer"],
                        "--implicit", t["implicit-assertion"],
                        "--now", "2021-06-01T00:00:00Z", t["token"]],
                       capture_output=True)
    want = 1 if t["expect-fail"] else 0
    assert r.returncode == want, (t["name"], r.returncode, r.stderr)
    if want == 0:
        assert r.stdout == t["payload"].encode() + b"\n", (t["name"], r.stdout)
    else:
        assert r.stdout == b"", (t["name"], r.stdout)
    n += 1
assert n == 17, n
print(f"cli_token: ok ({n} PASETO vectors)")
PY
