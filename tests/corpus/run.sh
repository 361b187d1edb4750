#!/bin/sh
# The project's own labelled corpus (rows written for this project, nothing
# from outside it), scanned with the bundled packs by `guard eval`: each file
# must reach the figures recorded here, so that a rule change that loses
# detections or adds false positives fails the suite.  When a change
# improves a figure, raise its floor in the same commit.
#
#   tests/corpus/run.sh GUARD SOURCE_DIR
#
# Only the findings of each file's own task count (--categories), since
# every pack runs.  Recorded: every file at 100% recall with no false
# positive.
set -eu
guard=$1
dir=$2/tests/corpus
status=0

check() {
    file=$1
    shift
    echo "== $file"
    if ! "$guard" eval "$@" "$dir/$file"; then
        echo "corpus: $file is below its floors" >&2
        status=1
    fi
}

check injection.jsonl --categories injection,hijacking,leakage \
    --min-recall injection=100 --min-recall jailbreak=100 \
    --max-fp 0 --max-hard-fp 0
check harmful.jsonl --categories harmful \
    --min-recall harmful=100 --max-fp 0 \
    --max-hard-fp 0
check moderation.jsonl --categories 'moderation/*' \
    --min-recall toxic=100 --max-fp 0 \
    --max-hard-fp 0
check pii.jsonl --categories pii \
    --min-recall pii=100 --max-fp 0
check secrets.jsonl --categories secret \
    --min-recall secret=100 --max-fp 0
exit $status
