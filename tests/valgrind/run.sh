#!/bin/sh
# Every cmocka unit test under valgrind memcheck (leaks included), with the
# suppressions for PCRE2's JIT beside this script.  Not part of ctest: a
# Release build takes some minutes (the 64 MiB scan test most of them).
#
#   tests/valgrind/run.sh BUILD_DIR
#
# test_noalloc and test_oom interpose malloc, which valgrind replaces: they
# are left out.  Exit status 1 if any test reports an error.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1
status=0
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    case $(basename "$t") in test_noalloc | test_oom) continue ;; esac
    log=$build/valgrind-$(basename "$t").log
    if valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect \
        --suppressions="$here/pcre2-jit.supp" "$t" >"$log" 2>&1; then
        echo "ok   $(basename "$t")"
    else
        echo "FAIL $(basename "$t") (see $log)"
        status=1
    fi
done
exit $status
