#!/usr/bin/env bash
# Prepares .gpukit/ (ignored by git) for one run of bench/gpu/run.sh on a lent GPU machine.
#
# The GPU machine is bare and offline: it has Python 3.12 with PyTorch, NumPy, SciPy,
# scikit-image, ONNX Runtime, tqdm and rich, but no MONAI and no ../shared. This copies what the
# lesion recipe needs beside the repo (well under the 64 MiB a run may carry):
#   .gpukit/whl/                      MONAI (pure-Python wheel, the version of .venv)
#   .gpukit/shared/data/covid-semiseg-medseg/   the 50 labelled MedSeg slices (1.8 MB;
#                                     non-commercial licence, see that folder's README) and the
#                                     481 pseudo-labelled radiopaedia slices the click model
#                                     trains on (20 MB)
#   .gpukit/starts.npz                the default model's proposals for the 40 training slices
#                                     (the click model's starting masks, --starts)
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
DST=.gpukit/shared/data/covid-semiseg-medseg
for part in README.md splits.csv images infection lesion_classes; do
  cp -r "$SRC/$part" "$DST/"
done
mkdir -p "$DST/unlabeled_pseudo/images" "$DST/unlabeled_pseudo/pseudo_infection"
cp "$SRC"/unlabeled_pseudo/images/*radiopaedia* "$DST/unlabeled_pseudo/images/"
cp "$SRC"/unlabeled_pseudo/pseudo_infection/*radiopaedia* "$DST/unlabeled_pseudo/pseudo_infection/"
LUNGLAB_SHARED_DIR="$SHARED" .venv/bin/python -c "
from pathlib import Path
from lunglab.ml.dataset import list_ids, split_ids
from lunglab.ml.interactive_train import automatic_proposals
automatic_proposals(split_ids(list_ids())[0], Path('.gpukit/starts.npz'))"

du -sh .gpukit
echo "ready: carry .gpukit and run bash bench/gpu/run.sh on the GPU machine"
