#!/bin/sh
# Every symbol the shared library exports must carry the lg_ prefix
# (curl test1167): internal lgi_* helpers stay hidden.
set -eu
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
      grep -v '^lg_' || true)
if [ -n "$bad" ]; then
    echo "exported symbols without the lg_ prefix:" >&2
    echo "$bad" >&2
    exit 1
fi
n=$(nm -D --defined-only "$lib" | grep -c ' T lg_')
echo "$n lg_ functions exported, nothing else"
