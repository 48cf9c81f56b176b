#!/usr/bin/env bash
# The README's test command: set up what the tests need (scripts/setup.sh), then run every test
# of the workspace on the default backend (flex). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export MUSE_DATA_DIR="${MUSE_DATA_DIR:-${HOME:-/tmp}/.cache/muse-data}"
bash scripts/setup.sh
cargo test --workspace --release "$@"
