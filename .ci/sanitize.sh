#!/usr/bin/env bash
# The native ristretto255 module under AddressSanitizer and UBSan (issue 27): build
# src/degcore/groups/_ristretto255.c with -fsanitize=address,undefined into a temporary folder (the
# normal build in the source tree stays as it is), then run the module's tests and the differential
# test against libsodium, scaled up, on that build. A sanitizer report aborts the process and a
# mismatch fails a test: either fails this script.
#
# Usage: .ci/sanitize.sh [SOURCE.c]  (default: the module's source; another file is for proving
# that an injected bug is caught). Needs gcc and its sanitizer runtime, the Python headers and the
# active environment's pytest. DEGCORE_DIFFERENTIAL_SCALE (default 10: about 1.5 minutes here)
# multiplies the differential test's counts and adds its largest sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
source="${1:-src/degcore/groups/_ristretto255.c}"
scale="${DEGCORE_DIFFERENTIAL_SCALE:-10}"

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
mkdir "$build/tmp"  # the tests' temporary folder: a process that aborts leaves its files in here
include="$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
suffix="$(python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
module="$build/_ristretto255$suffix"
gcc -std=c99 -Wall -Wextra -fPIC -shared -I"$include" \
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g -O1 \
    -o "$module" "$source"

asan="$(gcc -print-file-name=libasan.so)" ubsan="$(gcc -print-file-name=libubsan.so)"
for runtime in "$asan" "$ubsan"; do
    [ -f "$runtime" ] || { echo "sanitize: no $runtime (gcc's sanitizer runtime)" >&2; exit 1; }
done

# The tests that use the module; not the valgrind ones of test_ristretto255_ct.py, whose harness
# is a separate program (valgrind and the sanitizer runtime do not mix).
tests=(
    tests/unit/groups/test_ristretto255_differential.py
    tests/unit/groups/test_ristretto255_native.py
    tests/unit/groups/test_ristretto255_ct.py
    tests/unit/groups/test_ristretto255.py
)
echo "== the native module under AddressSanitizer and UBSan: $module (scale $scale)"
# - The sanitizer runtime is preloaded: the interpreter itself is not instrumented, and the ASan
#   runtime must be the first library loaded into the process.
# - detect_leaks=0: CPython does not free everything at exit (interned objects, the modules of
#   cryptography and coincurve), so LeakSanitizer would fail every run on memory that is not ours.
# - PYTHONMALLOC=malloc: bytes objects from malloc rather than pymalloc's arenas, so that reading
#   past the end of an argument buffer is caught too.
# - DEGCORE_NATIVE_MODULE: ristretto255.py loads this build instead of the package's; the first
#   differential test fails unless the module in use is this file.
# - PYCRYPTODOME_DISABLE_DEEPBIND: pycryptodome opens its libraries with RTLD_DEEPBIND unless
#   told not to, which the ASan runtime refuses (it aborts the import).
# - --capture=sys: pytest captures Python's output only, so that a sanitizer's report (written to
#   file descriptor 2 just before the abort) reaches the log instead of a capture file.
# - -p no:randomly: the order is the files', so that a seed (DEGCORE_DIFFERENTIAL_SEED) replays.
LD_PRELOAD="$asan $ubsan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
    PYTHONMALLOC=malloc PYCRYPTODOME_DISABLE_DEEPBIND=1 TMPDIR="$build/tmp" \
    DEGCORE_NATIVE_MODULE="$module" DEGCORE_REQUIRE_NATIVE=1 DEGCORE_DIFFERENTIAL_SCALE="$scale" \
    python -m pytest -q -p no:randomly -p no:cacheprovider --capture=sys "${tests[@]}" \
    -k 'not no_branch_or_index_depends_on_a_secret_scalar and not catches_the_variable_time_encoding'
