#!/usr/bin/env python3
"""Measure rule packs on a labelled JSON-lines file with the guard CLI.

Usage:
    tools/eval/eval_jsonl.py --guard build/tools/guard [--rules DIR]... FILE

FILE is a (gzipped) JSON-lines file whose rows hold at least "text" and
"label" (injection, jailbreak, benign, harmful, toxic, pii, secret), and
optionally "lang" and "hard_negative".  The script runs
`guard scan --jsonl` once over the whole file and prints, per label and per
language group (en, ko, other):

  any%    rows whose verdict is not "allow" (flag or block): recall on
          attack labels, false-positive rate on benign rows;
  block%  rows whose verdict is "block" (the default policy blocks at a
          category score of 5);
  in-cat% rows with a finding in a category the label maps to (attack
          labels only; a finding in another category still counts in any%).

Benign rows with "hard_negative": true are reported apart from the other
benign rows.  --json prints the same figures as one JSON object, and
--top N lists the rules that fire most often on attack and benign rows.
--dump FILE writes the misses and false positives (as JSON lines) for
inspection; keep that file outside the repository, it holds dataset text.

Only the Python standard library is used.
"""

import argparse
import collections
import gzip
import json
import os
import subprocess
import sys

# Dataset label -> rule categories that count as catching it.
LABEL_CATEGORIES = {
    "injection": {"injection", "leakage", "hijacking"},
    "jailbreak": {"hijacking", "injection", "leakage"},
    "harmful": {"harmful"},
    "toxic": {
        "moderation/hate", "moderation/harassment", "moderation/violence",
        "moderation/self-harm", "moderation/sexual",
        "moderation/sexual-minors", "moderation/profanity",
    },
    "pii": {"pii"},
    "secret": {"secret"},
}
ATTACK_LABELS = ("injection", "jailbreak")
LANG_GROUPS = ("en", "ko", "other")


def open_text(path):
    """Open a plain or gzipped file for reading text."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


def read_rows(path):
    rows = []
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                rows.append(None)
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                sys.exit("%s:%d: bad JSON: %s" % (path, n, e))
    return rows


def run_guard(guard, rules, path, direction):
    """Scan every line of `path` and return {line: verdict object}."""
    cmd = [guard, "scan", "--jsonl"]
    for r in rules:
        cmd += ["--rules", r]
    if direction:
        cmd += ["--direction", direction]
    cmd.append(path)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode not in (0, 1):
        sys.exit("guard failed (exit %d): %s" %
                 (proc.returncode, proc.stderr.decode("utf-8", "replace")))
    out = {}
    for line in proc.stdout.decode("utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if "error" in obj:
            sys.exit("guard: line %s: %s" % (obj.get("line"), obj["error"]))
        out[obj["line"]] = obj
    return out


def group_of(row):
    label = row.get("label", "unknown")
    if label == "benign" and row.get("hard_negative"):
        return "hard_negative"
    return label


def lang_of(row):
    lang = row.get("lang", "")
    return lang if lang in ("en", "ko") else "other"


class Tally:
    __slots__ = ("n", "any", "block", "incat")

    def __init__(self):
        self.n = self.any = self.block = self.incat = 0

    def add(self, detected, blocked, incat):
        self.n += 1
        self.any += detected
        self.block += blocked
        self.incat += incat

    def pct(self, k):
        return 100.0 * getattr(self, k) / self.n if self.n else 0.0

    def as_dict(self):
        return {"rows": self.n, "any": self.any, "block": self.block,
                "in_category": self.incat,
                "any_pct": round(self.pct("any"), 2),
                "block_pct": round(self.pct("block"), 2),
                "in_category_pct": round(self.pct("incat"), 2)}


def evaluate(rows, verdicts):
    tallies = collections.defaultdict(Tally)
    rule_hits = collections.defaultdict(collections.Counter)
    dumps = []
    for i, row in enumerate(rows, 1):
        if row is None or "text" not in row:
            continue
        v = verdicts.get(i)
        if v is None:
            sys.exit("guard gave no verdict for line %d" % i)
        label = row.get("label", "unknown")
        group = group_of(row)
        cats = {f["category"] for f in v.get("findings", [])}
        detected = v["verdict"] != "allow"
        blocked = v["verdict"] == "block"
        incat = bool(cats & LABEL_CATEGORIES.get(label, set()))
        for key in (group, "%s/%s" % (group, lang_of(row))):
            tallies[key].add(detected, blocked, incat)
        if label in ATTACK_LABELS:
            tallies["attacks"].add(detected, blocked, incat)
        kind = "attack" if label != "benign" else "benign"
        for rid in {f["rule"] for f in v.get("findings", [])}:
            rule_hits[kind][rid] += 1
        if (label == "benign") == detected:
            dumps.append({"line": i, "label": label, "group": group,
                          "category": row.get("category"),
                          "lang": row.get("lang"),
                          "verdict": v["verdict"],
                          "rules": sorted({f["rule"] for f in
                                           v.get("findings", [])}),
                          "text": row["text"]})
    return tallies, rule_hits, dumps


def order(tallies):
    base = ["injection", "jailbreak", "attacks", "harmful", "toxic", "pii",
            "secret", "benign", "hard_negative"]
    keys = [k for k in base if k in tallies]
    keys += sorted(k for k in tallies if "/" not in k and k not in base)
    out = []
    for k in keys:
        out.append(k)
        for lg in LANG_GROUPS:
            sub = "%s/%s" % (k, lg)
            if sub in tallies:
                out.append(sub)
    return out


def print_table(tallies, path):
    print("file: %s" % path)
    print("%-22s %6s %8s %8s %8s   %s" %
          ("group", "rows", "any%", "block%", "in-cat%", "meaning of any%"))
    for k in order(tallies):
        t = tallies[k]
        top = k.split("/")[0]
        if top in ("benign", "hard_negative"):
            meaning, incat = "false positives", "       -"
        else:
            meaning, incat = "recall", "%8.2f" % t.pct("incat")
        name = k if "/" not in k else "  " + k
        print("%-22s %6d %8.2f %8.2f %s   %s" %
              (name, t.n, t.pct("any"), t.pct("block"), incat, meaning))


def main():
    ap = argparse.ArgumentParser(
        description="Measure libguard rule packs on labelled JSON lines.")
    ap.add_argument("--guard", default="build/tools/guard",
                    help="path of the guard CLI (default: %(default)s)")
    ap.add_argument("--rules", action="append", default=[],
                    help="rule pack file or directory (repeatable; default: "
                         "the guard's bundled packs)")
    ap.add_argument("--direction", default=None,
                    help="scan direction: prompt (default), completion, both")
    ap.add_argument("--json", action="store_true",
                    help="print the figures as JSON instead of a table")
    ap.add_argument("--top", type=int, default=0, metavar="N",
                    help="also list the N rules firing most on attack and "
                         "on benign rows")
    ap.add_argument("--dump", metavar="FILE",
                    help="write misses and false positives as JSON lines")
    ap.add_argument("--min-recall", type=float, metavar="PCT",
                    help="fail (exit 1) if fewer attack rows are detected")
    ap.add_argument("--max-fp", type=float, metavar="PCT",
                    help="fail if more benign rows are flagged or blocked")
    ap.add_argument("--max-hard-fp", type=float, metavar="PCT",
                    help="fail if more hard-negative rows are flagged or "
                         "blocked")
    ap.add_argument("file", help="labelled .jsonl or .jsonl.gz file")
    a = ap.parse_args()

    if not os.access(a.guard, os.X_OK):
        sys.exit("guard not found or not executable: %s" % a.guard)
    rows = read_rows(a.file)
    verdicts = run_guard(a.guard, a.rules, a.file, a.direction)
    tallies, rule_hits, dumps = evaluate(rows, verdicts)

    if a.dump:
        with open(a.dump, "w", encoding="utf-8") as f:
            for d in dumps:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")

    if a.json:
        out = {"file": a.file,
               "groups": {k: tallies[k].as_dict() for k in order(tallies)}}
        if a.top:
            out["top_rules"] = {k: rule_hits[k].most_common(a.top)
                                for k in ("attack", "benign")}
        json.dump(out, sys.stdout, indent=2)
        print()
        return check_floors(a, tallies)

    print_table(tallies, a.file)
    if a.top:
        for kind in ("attack", "benign"):
            print("\nrules firing most on %s rows:" % kind)
            for rid, n in rule_hits[kind].most_common(a.top):
                print("  %5d  %s" % (n, rid))
    return check_floors(a, tallies)


def check_floors(a, tallies):
    """Compare with the recorded floors; 1 if any is not met."""
    checks = [("attacks", a.min_recall, True),
              ("benign", a.max_fp, False),
              ("hard_negative", a.max_hard_fp, False)]
    failed = 0
    for group, limit, at_least in checks:
        if limit is None:
            continue
        if group not in tallies:
            print("floor: no %s rows in the file" % group, file=sys.stderr)
            failed = 1
            continue
        got = tallies[group].pct("any")
        ok = got >= limit if at_least else got <= limit
        print("floor: %s %.2f%% %s %.2f%%: %s" %
              (group, got, ">=" if at_least else "<=", limit,
               "PASS" if ok else "FAIL"), file=sys.stderr)
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
