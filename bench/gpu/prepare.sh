#!/usr/bin/env bash
# Prepares .gpukit/ (ignored by git) for one run of bench/gpu/run.sh on a lent GPU machine.
#
# The GPU machine is bare and offline: it has Python 3.12 with PyTorch, NumPy, SciPy,
# scikit-image, ONNX Runtime, tqdm and rich, but no MONAI and no ../shared. This copies what the
# lesion recipe needs beside the repo (well under the 64 MiB a run may carry):
#   .gpukit/whl/                      MONAI (pure-Python wheel, the version of .venv)
#   .gpukit/shared/data/covid-semiseg-medseg/   the 50 labelled MedSeg slices (1.8 MB;
#                                     non-commercial licence, see that folder's README)
# Usage (repo root, after `make install`): bash bench/gpu/prepare.sh
# Then, with the device tool: run(command="bash bench/gpu/run.sh", carry=[".gpukit"], timeout_s=590)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${LUNGLAB_SHARED_DIR:-../shared}
SRC="$SHARED/data/covid-semiseg-medseg"
[ -d "$SRC/images" ] || { echo "no labelled MedSeg slices at $SRC (set LUNGLAB_SHARED_DIR)" >&2; exit 2; }
MONAI=$(.venv/bin/python -c "import monai; print(monai.__version__)")
rm -rf .gpukit
mkdir -p .gpukit/whl .gpukit/shared/data/covid-semiseg-medseg
.venv/bin/pip download -q --no-deps --only-binary=:all: -d .gpukit/whl "monai==$MONAI"
for part in README.md splits.csv images infection lesion_classes; do
  cp -r "$SRC/$part" .gpukit/shared/data/covid-semiseg-medseg/
done
du -sh .gpukit
echo "ready: carry .gpukit and run bash bench/gpu/run.sh on the GPU machine"
