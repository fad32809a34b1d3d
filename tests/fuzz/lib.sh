# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/lib.sh - shell pieces shared by tests/fuzz/run and tests/fuzz/long-run (sourced).

# fuzz_stage TOP BUILD TARGET: print a fresh directory holding the seeds (tests/fuzz/corpus/TARGET,
# valid/ included) and the regression inputs (tests/fuzz/regressions/TARGET, but not open/: a
# known open bug would stop the run at once; the unit test fuzz-TARGET replays those).
fuzz_stage() {
        local top=$1 build=$2 t=$3 d=$2/fuzz-seeds/$3 f
        rm -rf "$d"
        mkdir -p "$d"
        if [ -d "$top/tests/fuzz/corpus/$t" ]; then
                find "$top/tests/fuzz/corpus/$t" -type f | while read -r f; do
                        cp "$f" "$d/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
                done
        fi
        if [ -d "$top/tests/fuzz/regressions/$t" ]; then
                find "$top/tests/fuzz/regressions/$t" -path '*/open' -prune -o -type f -print | while read -r f; do
                        cp "$f" "$d/regression-$(basename "$f")"
                done
        fi
        echo "$d"
}
