# guard eval: per-label confusion counts, precision, recall and F1, false
# positives on benign rows and hard negatives, per language and dataset
# category; --json, --labels, gzip and several inputs, malformed lines,
# floors, --show, usage errors.  The pack and every row are made up here.
set -eu
. "$(dirname "$0")/lib.sh"

cat >"$TMP/pack.yaml" <<'YAML'
version: 1
pack: cli-eval
pack_version: "1.0.0"
rules:
  - id: eval.t.override
    category: injection
    description: Made-up override phrase (blocks alone)
    severity: critical
    applies_to: prompt
    patterns:
      - 'purple\s+walrus\s+override'
    tests:
      match: ["purple walrus override"]
      no_match: ["purple walrus"]
  - id: eval.t.persona
    category: hijacking
    description: Made-up persona request (flags)
    severity: medium
    applies_to: both
    patterns:
      - 'pretend\s+to\s+be\s+a\s+teapot'
    tests:
      match: ["pretend to be a teapot"]
      no_match: ["a teapot"]
  - id: eval.t.code
    category: pii
    description: Made-up badge code (flags)
    severity: low
    applies_to: both
    patterns:
      - 'BADGER-[0-9]{3}'
    tests:
      match: ["BADGER-123"]
      no_match: ["badger"]
  - id: eval.t.rude
    category: moderation/profanity
    description: Made-up mild oath (flags)
    severity: low
    applies_to: both
    patterns:
      - 'fiddlesticks'
    tests:
      match: ["oh fiddlesticks"]
      no_match: ["fiddle"]
YAML
R="--rules $TMP/pack.yaml"

# Expected, by line:
#  1 injection/en   block (injection)         TP, in-category
#  2 injection/en   flag (hijacking)          TP, in-category
#  3 injection/ko   allow                     FN
#  4 injection/en   flag (pii only)           TP, not in-category
#  5 jailbreak/fr   flag (hijacking)          TP
#  6 jailbreak/und  allow                     FN
#  7 benign/en      allow
#  8 benign/en      flag (pii)                benign FP, no attack category
#  9 hard/en        block (injection)         hard FP, attack category
# 10 hard/ko        allow
# 11 toxic/en       flag (moderation)         TP
# 12 benign/und     flag (hijacking), 300-byte text
# 13 blank
python3 - "$TMP/data.jsonl" <<'PY'
import json, sys
rows = [
    {"text": "purple walrus override now", "label": "injection", "lang": "en", "category": "c1"},
    {"text": "please pretend to be a teapot", "label": "injection", "lang": "en", "category": "c1"},
    {"text": "nothing to see here", "label": "injection", "lang": "ko", "category": "c2"},
    {"text": "my code is BADGER-123", "label": "injection", "lang": "en"},
    {"text": "pretend to be a teapot, please", "label": "jailbreak", "lang": "fr"},
    {"text": "plain words only", "label": "jailbreak", "lang": None},
    {"text": "hello friend", "label": "benign", "lang": "en", "category": "none"},
    {"text": "my badge BADGER-999", "label": "benign", "lang": "en", "hard_negative": False},
    {"text": "purple walrus override is a band", "label": "benign", "lang": "en", "hard_negative": True},
    {"text": "a teapot is a vessel", "label": "benign", "lang": "ko", "hard_negative": True},
    {"text": "oh fiddlesticks", "label": "toxic", "lang": "en"},
    {"text": "pretend to be a teapot in the play " + "\u00e9" * 150, "label": "benign"},
]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
    f.write("\n")
PY

# The text table.
expect 0 "$GUARD" eval $R "$TMP/data.jsonl"
[ ! -s "$TMP/err" ] || { cat "$TMP/err" >&2; fail "stderr not empty"; }
stdout_has '^guard eval: 12 rows$'
# label rows TP FN FP TN recall% prec% F1% block% in-cat%
stdout_has '^injection +4 +3 +1 +2 +3 +75\.00 +60\.00 +66\.67 +25\.00 +50\.00$'
stdout_has '^jailbreak +2 +1 +1 +2 +3 +50\.00 +33\.33 +40\.00 +0\.00 +50\.00$'
stdout_has '^toxic +1 +1 +0 +0 +5 +100\.00 +100\.00 +100\.00 +0\.00 +100\.00$'
stdout_has '^attacks +7 +5 +2 +3 +2 +71\.43 +62\.50 +66\.67 +14\.29 +57\.14$'
# negatives rows detected fp% blocked block%
stdout_has '^benign +3 +2 +66\.67 +0 +0\.00$'
stdout_has '^hard_negative +2 +1 +50\.00 +1 +50\.00$'
# language attacks recall% block% benign fp% hard hard-fp%, by rows
grep -E '^(en|ko|und|fr) ' "$TMP/out" >"$TMP/langs"
cat >"$TMP/langs.want" <<'EOF'
en                     4   100.00   25.00       2    50.00       1    100.00
ko                     1     0.00    0.00       0      n/a       1      0.00
und                    1     0.00    0.00       1   100.00       0       n/a
fr                     1   100.00    0.00       0      n/a       0       n/a
EOF
diff "$TMP/langs.want" "$TMP/langs" || fail "language table"
# label rows detected% block% in-cat% category
stdout_has '^injection +2 +100\.00 +50\.00 +100\.00  c1$'
stdout_has '^injection +1 +0\.00 +0\.00 +0\.00  c2$'
stdout_has '^benign +1 +0\.00 +0\.00 +-  none$'
# Labels without rows are left out; harmful has none.
! grep -q '^harmful' "$TMP/out" || fail "a label without rows is listed"

# --categories: only findings in those categories detect a row.
expect 0 "$GUARD" eval $R --categories exfiltration "$TMP/data.jsonl"
stdout_has '^attacks +7 +0 +7 +0 +5 +0\.00 '
stdout_has '^benign +3 +0 +0\.00 +0 +0\.00$'
# --show lists the rows those figures count: every attack is a miss,
# flagged by other categories or not, and no benign row is a false positive.
expect 0 "$GUARD" eval $R --categories exfiltration --show misses "$TMP/data.jsonl"
[ "$(grep -c '^{' "$TMP/out")" -eq 7 ] || fail "--categories: not every miss listed"
expect 0 "$GUARD" eval $R --categories exfiltration --show false-positives "$TMP/data.jsonl"
! grep -q '^{' "$TMP/out" || fail "--categories: a false positive of other categories listed"
expect 0 "$GUARD" eval $R --categories 'injection,moderation/*' "$TMP/data.jsonl"
stdout_has '^toxic +1 +1 +0 '
expect 2 "$GUARD" eval $R --categories injections "$TMP/data.jsonl"
stderr_has "^guard: eval: --categories: unknown category 'injections'"

# --json: the same figures, one line, n/a as null.
expect 0 "$GUARD" eval $R --json "$TMP/data.jsonl"
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json is not one line"
check '
assert o["rows"] == 12 and o["errors"] == 0, o
inj = o["labels"]["injection"]
assert inj == {"categories": ["injection", "hijacking", "leakage"], "rows": 4,
               "tp": 3, "fn": 1, "fp": 2, "tn": 3, "recall_pct": 75.0,
               "precision_pct": 60.0, "f1_pct": 66.67, "blocked": 1,
               "block_pct": 25.0, "in_category": 2, "in_category_pct": 50.0}, inj
assert o["labels"]["toxic"]["categories"] == ["moderation/hate",
    "moderation/harassment", "moderation/violence", "moderation/self-harm",
    "moderation/sexual", "moderation/sexual-minors", "moderation/profanity"], o["labels"]["toxic"]
assert sorted(o["labels"]) == ["injection", "jailbreak", "toxic"], o["labels"]
a = o["attacks"]
assert (a["tp"], a["fn"], a["fp"], a["tn"], a["recall_pct"], a["precision_pct"]) == (5, 2, 3, 2, 71.43, 62.5), a
assert o["benign"] == {"rows": 3, "detected": 2, "fp_pct": 66.67, "blocked": 0, "block_pct": 0.0}, o["benign"]
assert o["hard_negative"] == {"rows": 2, "detected": 1, "fp_pct": 50.0, "blocked": 1, "block_pct": 50.0}, o["hard_negative"]
L = o["languages"]
assert list(L) == ["en", "ko", "und", "fr"], list(L)
assert L["en"]["rows"] == 7, L["en"]
assert L["en"]["groups"]["injection"] == {"rows": 3, "detected": 3, "detected_pct": 100.0,
    "blocked": 1, "block_pct": 33.33, "in_category": 2, "in_category_pct": 66.67}, L["en"]
assert L["en"]["groups"]["benign"] == {"rows": 2, "detected": 1, "detected_pct": 50.0,
    "blocked": 0, "block_pct": 0.0}, L["en"]
assert list(L["ko"]["groups"]) == ["injection", "attacks", "hard_negative"], L["ko"]
assert L["und"]["groups"]["jailbreak"]["detected"] == 0, L["und"]
C = [(c["label"], c["category"], c["rows"], c["detected"]) for c in o["categories"]]
assert C == [("injection", "c1", 2, 2), ("injection", "c2", 1, 0), ("benign", "none", 1, 0)], C
assert o["floors"] == [] and "show" not in o, o
'

# Zero rows: nothing to divide by, everything n/a or null.
: >"$TMP/empty.jsonl"
expect 0 "$GUARD" eval $R "$TMP/empty.jsonl"
stdout_has '^guard eval: 0 rows$'
stdout_has '^benign +0 +0 +n/a +0 +n/a$'
! grep -q '^attacks' "$TMP/out" || fail "attacks listed without rows"
expect 0 "$GUARD" eval $R --json "$TMP/empty.jsonl"
check '
assert o["rows"] == 0 and o["labels"] == {} and o["languages"] == {}, o
assert o["attacks"]["recall_pct"] is None and o["attacks"]["precision_pct"] is None, o
assert o["attacks"]["f1_pct"] is None and o["benign"]["fp_pct"] is None, o
assert "categories" not in o, o
'

# gzip, standard input, and several files give the same figures.
expect 0 "$GUARD" eval $R "$TMP/data.jsonl"
cp "$TMP/out" "$TMP/plain.out"
gzip -c "$TMP/data.jsonl" >"$TMP/data.jsonl.gz"
expect 0 "$GUARD" eval $R "$TMP/data.jsonl.gz"
cmp "$TMP/out" "$TMP/plain.out" || fail "gzip input gives other figures"
expect_in 0 "$TMP/data.jsonl.gz" "$GUARD" eval $R -
cmp "$TMP/out" "$TMP/plain.out" || fail "standard input gives other figures"
head -n 5 "$TMP/data.jsonl" | gzip -c >"$TMP/part1.jsonl.gz"
tail -n +6 "$TMP/data.jsonl" >"$TMP/part2.jsonl"
expect 0 "$GUARD" eval $R "$TMP/part1.jsonl.gz" "$TMP/part2.jsonl"
cmp "$TMP/out" "$TMP/plain.out" || fail "two files give other figures"
expect 0 "$GUARD" eval $R --json "$TMP/part1.jsonl.gz" "$TMP/part2.jsonl"
check 'assert o["files"] == [sys.argv[3], sys.argv[4]] and o["rows"] == 12, o' \
    "$TMP/part1.jsonl.gz" "$TMP/part2.jsonl"
# A truncated gzip stream is an I/O error: exit 2, no figures.
python3 - "$TMP/big.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write(json.dumps({"text": "row %d BADGER-%03d" % (i, i % 1000), "label": "benign"}) + "\n")
PY
gzip -c "$TMP/big.jsonl" | head -c 30000 >"$TMP/cut.jsonl.gz"
expect 2 "$GUARD" eval $R "$TMP/cut.jsonl.gz"
stderr_has '^guard: .*cut\.jsonl\.gz: '
[ ! -s "$TMP/out" ] || fail "figures printed after an I/O error"
printf '\037\213garbage' >"$TMP/fake.gz"
expect 2 "$GUARD" eval $R "$TMP/fake.gz"
stderr_has '^guard: .*fake\.gz: '

# Malformed lines: FILE:LINE: error on stderr, left out, exit 2 at the end.
cp "$TMP/data.jsonl" "$TMP/bad.jsonl"
cat >>"$TMP/bad.jsonl" <<'JSONL'
{"text": "unterminated
{"label": "benign"}
{"text": 5, "label": "benign"}
{"text": "x", "label": ""}
{"text": "x", "label": "benign", "hard_negative": "yes"}
{"text": "x", "label": "benign", "lang": 7}
{"text": "x", "label": "benign", "direction": "sideways"}
{"text": "x", "label": "attacks"}
[1]
{"text": "purple walrus override", "label": "injection", "lang": "en"}
JSONL
expect 2 "$GUARD" eval $R "$TMP/bad.jsonl"
grep -E ':[0-9]+: error: ' "$TMP/err" | sed 's/: error: .*//; s/.*://' >"$TMP/errlines"
printf '%s\n' 14 15 16 17 18 19 20 21 22 >"$TMP/errlines.want"
diff "$TMP/errlines.want" "$TMP/errlines" || fail "malformed lines"
stderr_has "^$TMP/bad\\.jsonl:14: error: invalid JSON"
stderr_has "^$TMP/bad\\.jsonl:15: error: \"text\" is missing"
stderr_has "^$TMP/bad\\.jsonl:17: error: \"label\" is missing or not a non-empty string"
stderr_has "^$TMP/bad\\.jsonl:18: error: \"hard_negative\""
stderr_has "^$TMP/bad\\.jsonl:21: error: label \"attacks\" is reserved"
stderr_has '^guard: eval: 9 malformed lines$'
stdout_has '^guard eval: 13 rows, 9 malformed lines left out$'
stdout_has '^injection +5 +4 +1 '
# Even with floors met, malformed lines give exit 2.
expect 2 "$GUARD" eval $R --min-recall injection=10 "$TMP/bad.jsonl"

# --labels: a map of our own; benign is the negative label.
cat >"$TMP/labels.txt" <<'EOF'
# made-up map for the test
injection: injection          # only the injection category
jailbreak: hijacking, leakage
benign:
EOF
expect 0 "$GUARD" eval $R --labels "$TMP/labels.txt" "$TMP/data.jsonl"
# injection: in-category only row 1; FP only line 9 (injection finding).
stdout_has '^injection +4 +3 +1 +1 +4 +75\.00 +75\.00 +75\.00 +25\.00 +25\.00$'
# jailbreak: FP only line 12 (hijacking).
stdout_has '^jailbreak +2 +1 +1 +1 +4 +50\.00 +50\.00 +50\.00 +0\.00 +50\.00$'
# toxic is not in the map: counted with no categories, and said so once.
stdout_has '^toxic +1 +1 +0 +0 +5 +100\.00 +100\.00 +100\.00 +0\.00 +0\.00$'
stderr_has "^guard: eval: warning: label 'toxic' is not in the label map"
[ "$(grep -c warning "$TMP/err")" -eq 1 ] || fail "warning repeated"
printf 'toxic: moderation/*\ninjection: injection\n' >"$TMP/labels2.txt"
expect 0 "$GUARD" eval $R --labels "$TMP/labels2.txt" --json "$TMP/data.jsonl"
check '
assert list(o["labels"]) == ["toxic", "injection", "jailbreak"], o["labels"]
assert o["labels"]["toxic"]["in_category"] == 1, o["labels"]["toxic"]
assert o["labels"]["jailbreak"]["categories"] == [], o["labels"]["jailbreak"]
'
# Bad label maps: exit 2 with FILE:LINE.
for bad in 'injection: injection bogus' 'just words' 'benign: pii' \
    'injection:' 'two words: pii' 'x: nope/*' 'attacks: pii'; do
    printf '# ok\n%s\n' "$bad" >"$TMP/badlabels.txt"
    expect 2 "$GUARD" eval $R --labels "$TMP/badlabels.txt" "$TMP/data.jsonl"
    stderr_has "^$TMP/badlabels\\.txt:2: error: "
done
printf 'pii: pii\npii: secret\n' >"$TMP/badlabels.txt"
expect 2 "$GUARD" eval $R --labels "$TMP/badlabels.txt" "$TMP/data.jsonl"
stderr_has "badlabels\\.txt:2: error: label 'pii' given twice"
printf '# nothing\nbenign:\n' >"$TMP/badlabels.txt"
expect 2 "$GUARD" eval $R --labels "$TMP/badlabels.txt" "$TMP/data.jsonl"
stderr_has 'no attack labels'

# Floors: exit 1 when one is missed, naming it; a floor without rows fails.
expect 0 "$GUARD" eval $R --min-recall injection=75 --min-recall attacks=71.4 \
    --max-fp 66.67 --max-hard-fp 50 "$TMP/data.jsonl"
stderr_has '^guard: eval: floor --min-recall injection=75: 75\.00%: pass$'
stderr_has '^guard: eval: floor --max-hard-fp 50: 50\.00%: pass$'
expect 1 "$GUARD" eval $R --min-recall injection=75.01 "$TMP/data.jsonl"
stderr_has '^guard: eval: floor --min-recall injection=75\.01: 75\.00%: MISSED$'
expect 1 "$GUARD" eval $R --max-fp 66.6 "$TMP/data.jsonl"
stderr_has 'floor --max-fp 66\.6: 66\.67%: MISSED'
expect 1 "$GUARD" eval $R --max-hard-fp 49.9 "$TMP/data.jsonl"
stderr_has 'floor --max-hard-fp 49\.9: 50\.00%: MISSED'
expect 1 "$GUARD" eval $R --min-recall harmful=1 "$TMP/data.jsonl"
stderr_has 'floor --min-recall harmful=1: no rows: MISSED'
# A label named by a floor is listed even without rows: n/a.
stdout_has '^harmful +0 +0 +0 +0 +5 +n/a +n/a +n/a +n/a +n/a$'
expect 1 "$GUARD" eval $R --json --min-recall nosuch=1 --max-fp 1 "$TMP/data.jsonl"
check '
assert o["floors"] == [
    {"floor": "--min-recall nosuch=1", "value_pct": None, "pass": False},
    {"floor": "--max-fp 1", "value_pct": 66.67, "pass": False}], o["floors"]
'

# --show: misses, false positives, --limit.
expect 0 "$GUARD" eval $R --show misses "$TMP/data.jsonl"
grep '^{' "$TMP/out" >"$TMP/shown"
python3 - "$TMP/shown" "$TMP/data.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [(l["line"], l["label"], l["lang"], l["verdict"], l["rules"]) for l in lines] == [
    (3, "injection", "ko", "allow", []), (6, "jailbreak", "und", "allow", [])], lines
assert lines[0]["file"] == sys.argv[2] and lines[0]["category"] == "c2", lines[0]
assert lines[0]["text"] == "nothing to see here" and "truncated" not in lines[0], lines[0]
PY
expect 0 "$GUARD" eval $R --show misses --limit 1 "$TMP/data.jsonl"
[ "$(grep -c '^{' "$TMP/out")" -eq 1 ] || fail "--limit 1 listed more"
stderr_has '^guard: eval: 1 of 2 misses listed'
expect 0 "$GUARD" eval $R --json --show false-positives "$TMP/data.jsonl"
python3 - "$TMP/out" <<'PY'
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read().splitlines()
o, rows = json.loads(raw[0]), [json.loads(l) for l in raw[1:]]
assert o["show"] == {"kind": "false-positives", "total": 3, "listed": 3}, o["show"]
assert [(r["line"], r["rules"], r.get("hard_negative", False)) for r in rows] == [
    (8, ["eval.t.code"], False), (9, ["eval.t.override"], True),
    (12, ["eval.t.persona"], False)], rows
t = rows[2]["text"]
full = "pretend to be a teapot in the play " + "\u00e9" * 150
assert rows[2]["truncated"] is True and full.startswith(t), rows[2]
assert 198 <= len(t.encode()) <= 200, len(t.encode())
assert rows[2]["lang"] == "und", rows[2]
PY

# Policy and direction options reach the scan.
expect 0 "$GUARD" eval $R --flag-at pii=0 "$TMP/data.jsonl"
stdout_has '^injection +4 +2 +2 '
stdout_has '^benign +3 +1 +33\.33 '
expect 0 "$GUARD" eval $R --detect-only "$TMP/data.jsonl"
stdout_has '^hard_negative +2 +1 +50\.00 +0 +0\.00$'
expect 0 "$GUARD" eval $R --direction completion "$TMP/data.jsonl"
stdout_has '^injection +4 +2 +2 '   # the override rule is prompt only
printf '%s\n' '{"text": "purple walrus override", "label": "injection", "direction": "completion"}' \
    >"$TMP/dir.jsonl"
expect 0 "$GUARD" eval $R "$TMP/dir.jsonl"
stdout_has '^injection +1 +0 +1 '
# --db: rules compiled beforehand.
expect 0 "$GUARD" compile $R -o "$TMP/pack.lgrb"
expect 0 "$GUARD" eval --db "$TMP/pack.lgrb" "$TMP/data.jsonl"
cmp "$TMP/out" "$TMP/plain.out" || fail "--db gives other figures"

# Help and usage errors: exit 2, nothing on stdout.
expect 0 "$GUARD" --help
stdout_has '^  eval '
expect 0 "$GUARD" help eval
stdout_has '^Usage: guard eval'
for opt in --rules --db --direction --labels --json --show --limit \
    --detect-only --block-at --flag-at --total-block-at --min-recall \
    --max-fp --max-hard-fp 'precision = TP/\(TP\+FP\)' 'F1 = '; do
    stdout_has "$opt"
done
cp "$TMP/out" "$TMP/help1"
expect 0 "$GUARD" eval --help
cmp -s "$TMP/out" "$TMP/help1" || fail "guard eval --help differs"
for args in "" "--show everything x" "--limit 5 x" "--limit 50 x" "--limit -1 --show misses x" \
    "--min-recall benign=5 x" "--min-recall injection x" \
    "--min-recall injection=101 x" "--max-fp 1,5 x" "--max-hard-fp abc x" \
    "--direction sideways x" "--block-at nope=1 x" "--frobnicate x" \
    "--db a --rules b x" "- -"; do
    # shellcheck disable=SC2086
    expect 2 "$GUARD" eval $args
    stderr_has '^guard: eval: '
    [ ! -s "$TMP/out" ] || fail "usage error wrote to stdout: $args"
done
expect 2 "$GUARD" eval $R "$TMP/data.jsonl" "$TMP/no-such.jsonl"
stderr_has "^guard: .*no-such\\.jsonl: No such file"
[ ! -s "$TMP/out" ] || fail "figures printed with a missing input"
echo "ok"
