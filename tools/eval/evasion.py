#!/usr/bin/env python3
"""How much detection each obfuscation costs: recall under evade.py transforms.

Usage:
    tools/eval/evasion.py [OPTIONS] GUARD DATA [GUARD SCAN OPTIONS...]

DATA is a labelled (gzipped) JSON-lines file (see eval_jsonl.py).  For the
plain text and for each transform of evade.py, the attack rows (injection,
jailbreak) are rewritten, the whole file is scanned with
`GUARD scan --jsonl [GUARD SCAN OPTIONS]`, and one table is printed:

  recall%    attack rows whose verdict is not "allow"
  of-plain%  that recall as a percentage of the plain-text recall
  benign%    benign rows (not hard negatives) flagged or blocked
  hard%      hard-negative rows flagged or blocked

By default benign rows are left as they are, so their columns repeat the
plain figures; --obfuscate-benign rewrites them too, which shows whether
normalization turns obfuscated benign text into false positives.  When the
guard has `--views`, the table is repeated with `--views raw` (scanning the
raw bytes only), which shows what normalization buys.

--lost N lists, per transform, the N rules whose plain-text detections the
transform loses most often (rows caught in plain text and missed once
rewritten, counted by the rules that caught them in plain text).

Everything after DATA goes to `guard scan` unchanged (e.g. --rules DIR).
Transformed files are written to a temporary directory and removed.
Only the Python standard library is used.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evade  # noqa: E402
import eval_jsonl  # noqa: E402

ORDER = ("homoglyph", "zero-width", "spacing", "leet", "fullwidth",
         "random-case", "base64", "hex-bytes", "binary", "tags")


def guard_has_views(guard):
    proc = subprocess.run([guard, "scan", "--help"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    return b"--views" in proc.stdout


def scan(guard, path, extra):
    """Return {line: verdict} for every line of `path`."""
    cmd = [guard, "scan", "--jsonl"] + extra + [path]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode not in (0, 1):
        sys.exit("evasion: %s failed (exit %d): %s" %
                 (" ".join(cmd), proc.returncode,
                  proc.stderr.decode("utf-8", "replace").strip()))
    out = {}
    for line in proc.stdout.decode("utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if "error" in obj:
                sys.exit("evasion: line %s: %s" % (obj.get("line"),
                                                   obj["error"]))
            out[obj["line"]] = obj
    return out


def lost_rules(rows, plain, obf):
    """Rules of the attack rows caught in `plain` and missed in `obf`."""
    c = collections.Counter()
    for i, row in enumerate(rows, 1):
        if (row is None or row.get("label") not in eval_jsonl.ATTACK_LABELS
                or plain[i]["verdict"] == "allow"
                or obf[i]["verdict"] != "allow"):
            continue
        c.update({f["rule"] for f in plain[i]["findings"]})
    return c


def tally(rows, verdicts):
    """Detected/total for attacks, benign and hard negatives."""
    t = {"attacks": [0, 0], "benign": [0, 0], "hard_negative": [0, 0]}
    for i, row in enumerate(rows, 1):
        if row is None or "text" not in row:
            continue
        v = verdicts.get(i)
        if v is None:
            sys.exit("evasion: no verdict for line %d" % i)
        g = eval_jsonl.group_of(row)
        if row.get("label") in eval_jsonl.ATTACK_LABELS:
            g = "attacks"
        if g in t:
            t[g][0] += v["verdict"] != "allow"
            t[g][1] += 1
    return t


def pct(pair):
    return 100.0 * pair[0] / pair[1] if pair[1] else 0.0


def main():
    ap = argparse.ArgumentParser(
        description="Recall of a guard under obfuscation transforms.")
    ap.add_argument("--transforms", default=",".join(ORDER),
                    help="comma-separated transforms (default: all)")
    ap.add_argument("--seed", type=int, default=0,
                    help="evade.py seed (default: %(default)s)")
    ap.add_argument("--obfuscate-benign", action="store_true",
                    help="rewrite benign rows too; FP columns then measure "
                         "obfuscated benign text")
    ap.add_argument("--no-raw", action="store_true",
                    help="skip the --views raw table")
    ap.add_argument("--json", action="store_true",
                    help="print the figures as JSON")
    ap.add_argument("--lost", type=int, default=0, metavar="N",
                    help="list the N rules each transform loses most")
    ap.add_argument("guard", help="path of the guard CLI")
    ap.add_argument("data", help="labelled .jsonl or .jsonl.gz file")
    ap.add_argument("extra", nargs=argparse.REMAINDER,
                    help="options passed to guard scan")
    a = ap.parse_args()

    names = [s.strip() for s in a.transforms.split(",") if s.strip()]
    bad = [n for n in names if n not in evade.TRANSFORMS]
    if bad:
        ap.error("unknown transform(s): %s (known: %s)" %
                 (", ".join(bad), ", ".join(ORDER)))
    if not os.access(a.guard, os.X_OK):
        sys.exit("evasion: guard not found or not executable: %s" % a.guard)
    views = [("default", [])]
    if not a.no_raw and guard_has_views(a.guard):
        views.append(("raw", ["--views", "raw"]))

    rows = eval_jsonl.read_rows(a.data)
    results = {}
    lost = {}
    plain_v = {}
    with tempfile.TemporaryDirectory(prefix="lg-evasion-") as tmp:
        for name in ["plain"] + names:
            path = a.data
            if name != "plain":
                path = os.path.join(tmp, name + ".jsonl")
                evade.transform_file(a.data, path, name, a.seed,
                                     labels=set(eval_jsonl.ATTACK_LABELS),
                                     all_rows=a.obfuscate_benign)
            for vname, vargs in views:
                v = scan(a.guard, path, a.extra + vargs)
                results[(vname, name)] = tally(rows, v)
                if name == "plain":
                    plain_v[vname] = v
                elif a.lost:
                    lost[(vname, name)] = lost_rules(rows, plain_v[vname], v)
            if path != a.data:
                os.unlink(path)

    if a.json:
        out = {"file": a.data, "seed": a.seed,
               "obfuscate_benign": a.obfuscate_benign, "views": {}}
        for vname, _ in views:
            plain = pct(results[(vname, "plain")]["attacks"])
            out["views"][vname] = {
                name: {"recall_pct": round(pct(t["attacks"]), 2),
                       "of_plain_pct": round(100.0 * pct(t["attacks"]) /
                                             plain, 1) if plain else None,
                       "benign_fp_pct": round(pct(t["benign"]), 2),
                       "hard_fp_pct": round(pct(t["hard_negative"]), 2),
                       "attacks": t["attacks"][1]}
                for (vn, name), t in results.items() if vn == vname}
            if a.lost:
                out.setdefault("lost", {})[vname] = {
                    name: c.most_common(a.lost)
                    for (vn, name), c in lost.items() if vn == vname}
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0

    print("file: %s   seed: %d   benign rows: %s" %
          (a.data, a.seed,
           "obfuscated" if a.obfuscate_benign else "unchanged"))
    for vname, _ in views:
        plain = pct(results[(vname, "plain")]["attacks"])
        print("\nviews: %s" % vname)
        print("%-12s %8s %9s %8s %8s" %
              ("transform", "recall%", "of-plain%", "benign%", "hard%"))
        for name in ["plain"] + names:
            t = results[(vname, name)]
            r = pct(t["attacks"])
            print("%-12s %8.2f %9.1f %8.2f %8.2f" %
                  (name, r, 100.0 * r / plain if plain else 0.0,
                   pct(t["benign"]), pct(t["hard_negative"])))
        for name in names if a.lost else []:
            top = lost[(vname, name)].most_common(a.lost)
            print("  %s loses: %s" % (name, ", ".join(
                "%s %d" % rc for rc in top) if top else "nothing"))
    if len(views) == 1 and not a.no_raw:
        print("\n(the guard has no --views option: no raw-bytes table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
