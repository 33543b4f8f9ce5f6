#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder of untrusted bytes (fuzz/, cargo-fuzz on nightly).
#
#   scripts/fuzz.sh [SECONDS]          each target for SECONDS (default 60), one after another
#   FUZZ_TARGETS="mcap_read fault_spec" scripts/fuzz.sh 600
#
# Seeds the corpora first (examples/fuzz_seeds.rs: small valid inputs of every shape plus the
# shared bags, photos and hostile findings; written to fuzz/seeds/, not committed), then runs
# each target with a bounded time, 2 GiB RSS limit and 10 s per input. A crash leaves its input
# in fuzz/artifacts/<target>/: minimise it (`cargo +nightly fuzz tmin <target> <file>`) and add
# it as a regression test under tests/fuzz_regressions/. Summary: fuzz/logs/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shared=${REDLINE_SHARED:-$PWD/../shared}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz (and rustup toolchain install nightly)" >&2
    exit 2
fi
cargo run --quiet --example fuzz_seeds -- fuzz/seeds "$shared"
cd fuzz
cargo +nightly fuzz build
targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
mkdir -p logs
summary=logs/summary.txt
: > "$summary"
status=0
for t in $targets; do
    mkdir -p "corpus/$t" "seeds/$t"
    echo "== $t: ${seconds}s"
    if cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"logs/$t.log" 2>&1; then
        result=ok
    else
        result="FAILED (see fuzz/logs/$t.log and fuzz/artifacts/$t/)"
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "logs/$t.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
    corpus=$(ls "corpus/$t" | wc -l)
    printf '%-20s %-8s %12s executions %6s s  corpus %6s\n' "$t" "$result" "${runs:-?}" "${secs:-?}" "$corpus" | tee -a "$summary"
done
exit $status
