#!/usr/bin/env bash
# A longer fuzz campaign than the tests' fixed run (docs/TESTING.md, "Fuzzing"): every
# target with ITERATIONS inputs (default 200000) from a random seed, printed first, so a
# failure can be run again exactly:
#
#   scripts/fuzz.sh                 # a new random seed
#   SEATMETER_FUZZ_SEED=1234 scripts/fuzz.sh   # the same inputs again
set -euo pipefail
cd "$(dirname "$0")/.."
export SEATMETER_FUZZ_SEED=${SEATMETER_FUZZ_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
export SEATMETER_FUZZ_ITERATIONS=${ITERATIONS:-200000}
echo "fuzz campaign: SEATMETER_FUZZ_SEED=$SEATMETER_FUZZ_SEED, $SEATMETER_FUZZ_ITERATIONS inputs per target"
start=$(date +%s)
cargo test --release --test it fuzz -- --nocapture
cargo test --release -p seatmeter-collectors fuzzed -- --nocapture
echo "done in $(( $(date +%s) - start )) s"
