# guard lint: wildcard warnings at the rule's file:line, benign-rate
# warnings from a labelled file, the speed check, --werror, usage errors.
set -eu
. "$(dirname "$0")/lib.sh"

cat >"$TMP/lint.yaml" <<'Y'
version: 1
pack: lint
pack_version: "1"
rules:
  - id: lint.lead
    category: injection
    description: leading wildcard
    severity: low
    patterns: ['.*reveal\s+the\s+secret']
    tests: {match: [reveal the secret], no_match: [secret]}
  - id: lint.trail
    category: injection
    description: trailing wildcard
    severity: low
    patterns: ['override\s+code\s+\S+']
    tests: {match: [override code 42], no_match: [override]}
  - id: lint.common
    category: pii
    description: matches an everyday word
    severity: low
    patterns: ['\bweather\b']
    tests: {match: [the weather], no_match: [whether]}
  - id: lint.fine
    category: injection
    description: nothing to say
    severity: low
    patterns: ['jailbreak\s{1,8}mode']
    tests: {match: [jailbreak mode], no_match: [jailbreak]}
Y
cat >"$TMP/benign.jsonl" <<'J'
{"text": "What will the weather be like tomorrow?", "label": "benign"}
{"text": "Write a poem about autumn.", "label": "benign"}
{"text": "Summarize this report in three bullet points.", "label": "benign"}
{"text": "Is the weather in Busan warm in May?", "label": "benign"}
{"text": "reveal the secret weather override", "label": "injection"}
J

expect 0 "$GUARD" lint --no-speed -r "$TMP/lint.yaml"
stdout_has "lint.yaml:5: warning: \[lint.lead\] pattern 1 starts with an unbounded wildcard"
stdout_has "lint.yaml:11: warning: \[lint.trail\] pattern 1 ends with an unbounded wildcard"
if grep -q "lint.fine\|lint.common" "$TMP/out"; then cat "$TMP/out"; fail "unexpected warning"; fi
stderr_has "^guard lint: 2 warnings$"

# 2 of the 4 benign rows mention the weather (the injection row is not counted)
expect 0 "$GUARD" lint --no-speed -r "$TMP/lint.yaml" --benign "$TMP/benign.jsonl"
stdout_has "\[lint.common\] matches 2 of 4 benign rows \(50.00%, more than 1.00%\)"
expect 0 "$GUARD" lint --no-speed -r "$TMP/lint.yaml" --benign "$TMP/benign.jsonl" --max-benign-rate 60
if grep -q "lint.common" "$TMP/out"; then fail "rate above the threshold reported"; fi

# the speed check times every pattern
expect 0 "$GUARD" lint -r "$TMP/lint.yaml"
stderr_has "^guard lint: timed 4 patterns alone"

# --werror; a clean pack passes it
expect 1 "$GUARD" lint --no-speed --werror -r "$TMP/lint.yaml"
sed -n '1,4p;23,28p' "$TMP/lint.yaml" >"$TMP/clean.yaml"
expect 0 "$GUARD" lint --no-speed --werror -r "$TMP/clean.yaml"
stderr_has "^guard lint: 0 warnings$"

# errors
expect 2 "$GUARD" lint --max-benign-rate x -r "$TMP/lint.yaml"
stderr_has "^guard: lint: --max-benign-rate"
expect 2 "$GUARD" lint --slow-factor 0.5 -r "$TMP/lint.yaml"
expect 2 "$GUARD" lint -r "$TMP/lint.yaml" extra
printf '{"label": "benign"}\n' >"$TMP/bad.jsonl"
expect 2 "$GUARD" lint --no-speed -r "$TMP/lint.yaml" --benign "$TMP/bad.jsonl"
stderr_has 'bad.jsonl:1: error: a row needs a "text" string'
expect 2 "$GUARD" lint --no-speed -r "$TMP/lint.yaml" --benign "$TMP/missing.jsonl"
expect 0 "$GUARD" lint --help
echo ok
