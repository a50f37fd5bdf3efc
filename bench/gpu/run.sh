#!/usr/bin/env bash
# One prepared GPU run (fits one 10-minute device command): the 5-fold cross-validation of the
# lesion recipe (UNet 2D) and the two members of a next default ensemble, all trained for as
# many iterations as fit in BUDGET_S seconds, measured on this machine first.
#
#   1. probe: 150 iterations of each architecture, all 7 training processes' worth of load at
#      once, gives iterations per second under the same contention as step 2;
#   2. train in parallel: folds 0-4 (bench/quality.py --kfold 5 --folds N --device cuda) and
#      lunglab-unet2d / lunglab-segresnet2d on the seeded split (40 training slices), with
#      iterations = rate x BUDGET_S (rounded down to 500, at most MAX_ITER);
#   3. $OUT/kfold.md (the merged table), $OUT/*.pt (the two members), $OUT/run.json (rates,
#      iterations, seconds, GPU), $OUT/logs.tar.gz.
# The iteration count is fixed before any held-out figure exists; the members are scored back
# on the CPU machine (bench/quality.py --model ...), never on the folds.
#
# Needs .gpukit/ from bench/gpu/prepare.sh (carry it). Environment: PY (python3), OUT (a
# folder; the device tool sets it), BUDGET_S (330), MAX_ITER (48000), MIN_ITER (500), PROBE (150
# iterations), THREADS (2 per process), DEVICE (cuda). A dry run on a CPU machine:
#   PY=.venv/bin/python DEVICE=cpu PROBE=5 MIN_ITER=10 MAX_ITER=10 OUT=/tmp/o bash bench/gpu/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
OUT=${OUT:-/tmp/gpu-out}
BUDGET_S=${BUDGET_S:-330}
MAX_ITER=${MAX_ITER:-48000}
MIN_ITER=${MIN_ITER:-500}
PROBE=${PROBE:-150}
THREADS=${THREADS:-2}
DEVICE=${DEVICE:-cuda}
WORK=$(mktemp -d)
mkdir -p "$OUT"
[ -d .gpukit/whl ] || { echo ".gpukit/ is missing: run bench/gpu/prepare.sh here and carry .gpukit" >&2; exit 2; }
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .gpukit/whl/*.whl || exit 3
export PYTHONPATH="$PWD/src:$WORK/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export LUNGLAB_SHARED_DIR="$PWD/.gpukit/shared"
T0=$(date +%s)
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"; } > "$WORK/gpu.txt"
$PY -c "import torch, monai; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'monai', monai.__version__)" | tee -a "$WORK/gpu.txt"

train() {  # arch iterations out log
  $PY -m lunglab.ml.train --arch "$1" --iterations "$2" --seed 0 --threads "$THREADS" --device "$DEVICE" --out "$3" > "$4" 2>&1
}
# 1. probe under full load: 5 UNet + 2 (UNet, SegResNet) as in step 2
for i in 0 1 2 3 4 5; do train unet2d $PROBE "$WORK/probe-u$i.pt" "$WORK/probe-u$i.log" & done
train segresnet2d $PROBE "$WORK/probe-s.pt" "$WORK/probe-s.log" &
wait
rate() { $PY -c "import json,sys; m=[json.loads(l) for l in open(sys.argv[1]) if l.startswith('{\"saved')]; print(${PROBE}/m[-1]['train_seconds'])" "$1"; }
RU=$(rate "$WORK/probe-u0.log") || { cat "$WORK/probe-u0.log"; exit 4; }
RS=$(rate "$WORK/probe-s.log") || { cat "$WORK/probe-s.log"; exit 4; }
iters() { $PY -c "import sys; r, b, hi, lo = map(float, sys.argv[1:]); print(int(max(lo, min(hi, r * b // 500 * 500))))" "$1" "$BUDGET_S" "$MAX_ITER" "$MIN_ITER"; }
IU=$(iters "$RU"); IS=$(iters "$RS")
echo "probe: unet2d $RU it/s -> $IU iterations; segresnet2d $RS it/s -> $IS iterations ($(( $(date +%s) - T0 )) s so far)"

# 2. the folds and the two members, in parallel
for f in 0 1 2 3 4; do
  $PY bench/quality.py --kfold 5 --arch unet2d --iterations "$IU" --threads "$THREADS" --device "$DEVICE" \
    --folds "$f" --out-dir "$WORK/folds" --json "$WORK/fold$f.json" > "$WORK/fold$f.log" 2>&1 &
done
train unet2d "$IU" "$OUT/lunglab-unet2d-gpu.pt" "$WORK/unet2d.log" &
train segresnet2d "$IS" "$OUT/lunglab-segresnet2d-gpu.pt" "$WORK/segresnet2d.log" &
wait
T1=$(date +%s)

# 3. results
$PY bench/quality.py --merge "$WORK"/fold?.json > "$OUT/kfold.md" 2>&1
cat "$OUT/kfold.md"
$PY - "$WORK" "$RU" "$RS" "$IU" "$IS" "$((T1 - T0))" > "$OUT/run.json" <<'PY'
import json, sys
work, ru, rs, iu, is_, secs = sys.argv[1:]
print(json.dumps({"gpu": open(f"{work}/gpu.txt").read().strip(), "unet2d_it_per_s": float(ru),
                  "segresnet2d_it_per_s": float(rs), "unet2d_iterations": int(iu),
                  "segresnet2d_iterations": int(is_), "seconds": int(secs)}, indent=1))
PY
cat "$OUT/run.json"
tar -czf "$OUT/logs.tar.gz" -C "$WORK" $(cd "$WORK" && ls *.log *.txt)
ls -la "$OUT"
