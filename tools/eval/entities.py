#!/usr/bin/env python3
"""Span-level evaluation of entity rules (pii, secret packs) with `guard scan`.

Usage:
  entities.py pii     DATA.jsonl[.gz] --rules PACK [--rules PACK]... [--guard PATH]
                      [--paranoia N] [--show TYPE] [--min-recall X --min-precision X]
  entities.py secrets DATA.jsonl[.gz] --rules PACK ... [--paranoia N] [--show fn|fp]

pii: each row may carry `entities` ([{type, value, start, end}], offsets in code
points).  A predicted span (a finding of a rule with an `entity:`, mapped to the
dataset's type names by TYPE_MAP) is a true positive when it overlaps a gold
span of the same type; a gold span is recalled when some predicted span of its
type overlaps it.  Only the types in TYPE_MAP's values are scored.  Rows that
hold any gold entity of a type are where precision is measured from; a
prediction on a row with no gold span of that type is a false positive
(including benign rows).

secrets: rows labelled `secret` are recalled when any finding of a category
`secret` rule is reported; `benign` rows with such a finding are false
positives.

Standard library only.  Never copies rows anywhere; --show prints misses to
the terminal for tuning.
"""
import argparse
import collections
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

# Our entity names -> the dataset's type names (Presidio English, Gretel Korean).
TYPE_MAP = {
    "EMAIL": ["EMAIL_ADDRESS", "email"],
    "PHONE": ["PHONE_NUMBER", "phone_number"],
    "CREDIT_CARD": ["CREDIT_CARD", "credit_card_number"],
    "IBAN": ["iban"],
    "US_SSN": ["US_SSN", "ssn"],
    # the Korean data's "ssn" holds social security and tax numbers of
    # many countries
    "NATIONAL_ID": ["ssn"],
    "IP_ADDRESS": ["IP_ADDRESS", "ipv4", "ipv6"],
    "KR_RRN": ["KR_RRN"],
    "KR_FRN": ["KR_RRN"],
    "PASSPORT": ["passport_number"],
    "KR_PASSPORT": ["passport_number"],
    "DATE_OF_BIRTH": ["date_of_birth"],
    "MAC_ADDRESS": ["MAC_ADDRESS"],
    "KR_BRN": ["KR_BRN"],
    "KR_DRIVER_LICENSE": ["KR_DRIVER_LICENSE"],
}
# One reported name per dataset type (the row of the table).
GROUP = {
    "EMAIL_ADDRESS": "EMAIL", "email": "EMAIL",
    "PHONE_NUMBER": "PHONE", "phone_number": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD", "credit_card_number": "CREDIT_CARD",
    "iban": "IBAN",
    "US_SSN": "US_SSN", "ssn": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS", "ipv4": "IP_ADDRESS", "ipv6": "IP_ADDRESS",
    "KR_RRN": "KR_RRN",
    "passport_number": "PASSPORT",
    "date_of_birth": "DATE_OF_BIRTH",
    "MAC_ADDRESS": "MAC_ADDRESS",
    "KR_BRN": "KR_BRN",
    "KR_DRIVER_LICENSE": "KR_DRIVER_LICENSE",
}


def read_rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def rule_entities(packs):
    """rule id -> entity and category, read from the packs' YAML lines."""
    ent, cat = {}, {}
    for p in packs:
        files = [os.path.join(p, f) for f in sorted(os.listdir(p))
                 if f.endswith(".yaml")] if os.path.isdir(p) else [p]
        for fn in files:
            rid = None
            with open(fn, encoding="utf-8") as f:
                for line in f:
                    m = re.match(r"\s*- id:\s*(\S+)", line)
                    if m:
                        rid = m.group(1)
                        continue
                    m = re.match(r"\s+entity:\s*(\S+)", line)
                    if m and rid:
                        ent[rid] = m.group(1)
                    m = re.match(r"\s+category:\s*(\S+)", line)
                    if m and rid:
                        cat[rid] = m.group(1)
    return ent, cat


def scan(guard, packs, rows, paranoia):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False,
                                     encoding="utf-8") as tf:
        for r in rows:
            tf.write(json.dumps({"text": r["text"], "direction": "prompt"}) + "\n")
        name = tf.name
    cmd = [guard, "scan", "--jsonl", "--paranoia", str(paranoia)]
    for p in packs:
        cmd += ["--rules", p]
    cmd.append(name)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    finally:
        os.unlink(name)
    if out.returncode not in (0, 1):
        sys.exit("guard failed (%d): %s" % (out.returncode, out.stderr[:2000]))
    res = {}
    for line in out.stdout.splitlines():
        o = json.loads(line)
        if "error" in o:
            sys.exit("guard: line %d: %s" % (o["line"], o["error"]))
        res[o["line"] - 1] = o.get("findings", [])
    return res


def byte_to_cp(text):
    """Map byte offsets of text's UTF-8 to code point offsets."""
    m = []
    for i, ch in enumerate(text):
        m.extend([i] * len(ch.encode("utf-8")))
    m.append(len(text))
    return m


def overlap(a, b):
    return a[0] < b[1] and b[0] < a[1]


def eval_pii(args):
    rows = read_rows(args.data)
    ent, _ = rule_entities(args.rules)
    found = scan(args.guard, args.rules, rows, args.paranoia)
    scored = set(GROUP)
    gold_n = collections.Counter()
    gold_hit = collections.Counter()
    pred_n = collections.Counter()
    pred_ok = collections.Counter()
    # Annotation is incomplete in places (the Korean rows label some
    # occurrences or some types only).  "annotated" precision counts only
    # predictions on benign rows and on rows with a gold span of the type,
    # and also accepts a prediction whose text is a gold value of its type
    # elsewhere in the row.
    apred_n = collections.Counter()
    apred_ok = collections.Counter()
    shown = 0
    benign_n = benign_hit = 0
    for i, r in enumerate(rows):
        text = r["text"]
        if r["label"] == "benign":
            benign_n += 1
            benign_hit += any(f["category"] == "pii" for f in found.get(i, []))
        b2c = byte_to_cp(text)
        golds = [(g["start"], g["end"], GROUP[g["type"]])
                 for g in r.get("entities", []) if g["type"] in scored]
        lang = r.get("lang", "?")
        preds = []
        for f in found.get(i, []):
            e = ent.get(f["rule"])
            if e is None or e not in TYPE_MAP:
                continue
            grp = GROUP[TYPE_MAP[e][0]]
            preds.append((b2c[f["start"]], b2c[min(f["end"], len(b2c) - 1)], grp, f["rule"]))
        for g in golds:
            hit = any(p[2] == g[2] and overlap(p, g) for p in preds)
            for k in (g[2], (g[2], lang)):
                gold_n[k] += 1
                gold_hit[k] += hit
            if not hit and args.show in (g[2], "all") and shown < args.limit:
                shown += 1
                print("MISS %-12s %r in %r" % (g[2], text[g[0]:g[1]], text[:200]))
        for p in preds:
            ok = any(p[2] == g[2] and overlap(p, g) for g in golds)
            aok = None
            if r["label"] == "benign" or any(g[2] == p[2] for g in golds):
                aok = ok or any(
                    g[2] == p[2] and text[g[0]:g[1]].strip() == text[p[0]:p[1]].strip()
                    for g in golds)
            for k in (p[2], (p[2], lang)):
                pred_n[k] += 1
                pred_ok[k] += ok
                if aok is not None:
                    apred_n[k] += 1
                    apred_ok[k] += aok
            if not ok and args.show in (p[2], "all") and shown < args.limit:
                shown += 1
                print("FP   %-12s %r [%s] in %r" % (p[2], text[p[0]:p[1]], p[3], text[:200]))
    print("| entity | gold | recall | predicted | precision | predicted (annotated rows) | precision (annotated rows) |")
    print("|---|---|---|---|---|---|---|")
    bad = False
    for t in sorted(set(gold_n) | set(pred_n), key=lambda k: (k, "") if isinstance(k, str) else k):
        rec = gold_hit[t] / gold_n[t] if gold_n[t] else float("nan")
        prec = pred_ok[t] / pred_n[t] if pred_n[t] else float("nan")
        aprec = apred_ok[t] / apred_n[t] if apred_n[t] else float("nan")
        print("| %s | %d | %.1f%% | %d | %.1f%% | %d | %.1f%% |" % (
            t if isinstance(t, str) else "— " + t[1], gold_n[t], 100 * rec, pred_n[t], 100 * prec, apred_n[t], 100 * aprec))
        if not isinstance(t, str):
            continue
        if args.min_recall is not None and gold_n[t] and rec < args.min_recall:
            bad = True
        if args.min_precision is not None and apred_n[t] and aprec < args.min_precision:
            bad = True
    if benign_n:
        print("\nbenign rows with a pii finding: %d of %d (%.1f%%)" % (
            benign_hit, benign_n, 100 * benign_hit / benign_n))
    return 1 if bad else 0


def eval_secrets(args):
    rows = read_rows(args.data)
    _, cat = rule_entities(args.rules)
    found = scan(args.guard, args.rules, rows, args.paranoia)
    n = collections.Counter()
    hit = collections.Counter()
    shown = 0
    for i, r in enumerate(rows):
        fs = [f for f in found.get(i, []) if f["category"] == "secret"]
        key = r["label"]
        if key == "benign" and r.get("ambiguous"):
            key = "benign (ambiguous)"
        n[key] += 1
        hit[key] += bool(fs)
        if args.show == "fn" and r["label"] == "secret" and not fs and shown < args.limit:
            shown += 1
            print("FN %-28s %r" % (r.get("category", "")[:28], r["text"][:160]))
        if args.show == "fp" and r["label"] == "benign" and fs and shown < args.limit:
            shown += 1
            print("FP %s %r" % (",".join(f["rule"] for f in fs), r["text"][:160]))
    print("| rows | n | with a secret finding |")
    print("|---|---|---|")
    for k in sorted(n):
        print("| %s | %d | %.1f%% |" % (k, n[k], 100 * hit[k] / n[k]))
    ben = n["benign"] + n["benign (ambiguous)"]
    if ben:
        print("| benign, all | %d | %.1f%% |" % (ben, 100 * (hit["benign"] + hit["benign (ambiguous)"]) / ben))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["pii", "secrets"])
    ap.add_argument("data")
    ap.add_argument("--rules", "-r", action="append", required=True)
    ap.add_argument("--guard", default=os.environ.get("GUARD", "guard"))
    ap.add_argument("--paranoia", type=int, default=1)
    ap.add_argument("--show", default=None, help="entity group (pii), fn or fp (secrets), or all")
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--min-precision", type=float)
    args = ap.parse_args()
    return eval_pii(args) if args.mode == "pii" else eval_secrets(args)


if __name__ == "__main__":
    sys.exit(main())
