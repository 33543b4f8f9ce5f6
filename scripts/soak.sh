#!/usr/bin/env bash
# The soak (tests/soak.rs, ignored by default): the bundled sample looped at its recorded rate
# through the real stages (release build) with random faults for SECONDS (default 600), checking
# that resident memory stays flat after warm-up and the accounting balances. Prints one SOAK
# line with the figures.
#
#   scripts/soak.sh [SECONDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
REDLINE_SOAK_SECONDS="${1:-600}" REDLINE_SOAK_SEED="${2:-1}" \
  cargo test --release --test soak -- --ignored --nocapture
