#!/bin/sh
# Each public header compiles alone, as C11 and as C++ (self-contained,
# extern "C"), with strict warnings.
set -eu
inc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in "$inc"/libguard.h "$inc"/libguard/*.h; do
    rel=${h#"$inc"/}
    printf '#include "%s"\nint lg_check_header_unit;\n' "$rel" > "$tmp/t.c"
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o"
    c++ -x c++ -std=c++11 -Wall -Wextra -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o"
    n=$((n + 1))
done
echo "$n headers compile alone as C11 and C++11"
