#!/usr/bin/env bash
# One prepared GPU run (fits one 10-minute device command): for each architecture in ARCHS, the
# 5-fold cross-validation of the lesion recipe and one member trained on the seeded split, all
# for as many iterations as fit in BUDGET_S seconds, measured on this machine first.
#
#   1. probe: PROBE iterations of each architecture under the load of step 2 (6 processes per
#      architecture at once) gives its iterations per second;
#   2. train in parallel, per architecture: folds 0-4 (bench/quality.py --kfold 5 --folds N
#      --device cuda) and one network on the seeded split (40 training slices), with
#      iterations = rate x BUDGET_S (rounded down to 500, within MIN_ITER..MAX_ITER);
#   3. $OUT/kfold-<arch>.md (merged tables), $OUT/lunglab-<arch>-gpu.pt (the members),
#      $OUT/run.json (speeds, iterations, seconds, GPU), $OUT/logs.tar.gz.
# The iteration counts are fixed before any held-out figure exists. Choose the architecture on
# the k-fold means; score the member back on the CPU machine (bench/quality.py --model PATH.pt,
# bench/anatomy.py --model PATH.pt), never on the folds.
#
# With CLICK=1 it also trains the Smart click network (issue 18) from scratch at each width of
# CLICK_CHANNELS (default the shipped 16-128 and 32-256), the DeepEdit recipe with up to
# CLICK_LOOP model-in-the-loop clicks and the default model's proposals as starts, for as many
# iterations as fit the budget: $OUT/lunglab-smartclick-<channels>-gpu.pt, scored back here with
# bench/interactive.py --model PATH.pt (and --set coronacases). ARCHS="" CLICK=1 trains only
# those (the CPUs are shared by every process of a run).
#
# Needs .gpukit/ from bench/gpu/prepare.sh (carry it). Environment: PY (python3), OUT (a
# folder; the device tool sets it), ARCHS ("unet2d unet2d-wide"), BUDGET_S (330), MAX_ITER
# (48000), MIN_ITER (500), PROBE (150 iterations), THREADS (1 per process: 12 processes on the
# 16 cores), DEVICE (cuda). A dry run on a CPU machine:
#   PY=.venv/bin/python DEVICE=cpu PROBE=5 MIN_ITER=10 MAX_ITER=10 OUT=/tmp/o bash bench/gpu/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
OUT=${OUT:-/tmp/gpu-out}
ARCHS=${ARCHS-unet2d unet2d-wide}  # ARCHS="" runs none
BUDGET_S=${BUDGET_S:-330}
MAX_ITER=${MAX_ITER:-48000}
MIN_ITER=${MIN_ITER:-500}
PROBE=${PROBE:-150}
THREADS=${THREADS:-1}
DEVICE=${DEVICE:-cuda}
CLICK=${CLICK:-0}
CLICK_CHANNELS=${CLICK_CHANNELS:-16,32,64,128 32,64,128,256}
CLICK_LOOP=${CLICK_LOOP:-4}
CLICK_PROBE=${CLICK_PROBE:-60}
[ "$CLICK" = 1 ] || CLICK_CHANNELS=""
WORK=$(mktemp -d)
mkdir -p "$OUT"
[ -d .gpukit/whl ] || { echo ".gpukit/ is missing: run bench/gpu/prepare.sh here and carry .gpukit" >&2; exit 2; }
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .gpukit/whl/*.whl || exit 3
export PYTHONPATH="$PWD/src:$WORK/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export LUNGLAB_SHARED_DIR="$PWD/.gpukit/shared"
T0=$(date +%s)
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"; } > "$WORK/gpu.txt"
$PY -c "import torch, monai; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'monai', monai.__version__)" | tee -a "$WORK/gpu.txt"

member_out() { echo "$OUT/lunglab-$1-gpu.pt"; }                  # arch -> its member's checkpoint
click_out() { echo "$OUT/lunglab-smartclick-${1//,/-}-gpu.pt"; }  # channels -> its checkpoint
train() {  # arch iterations out log
  $PY -m lunglab.ml.train --arch "$1" --iterations "$2" --seed 0 --threads "$THREADS" --device "$DEVICE" --out "$3" > "$4" 2>&1
}
rate() {  # log -> iterations per second of the training loop
  $PY -c "import json, sys; m = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{\"saved')]; print(int(sys.argv[2]) / m[-1]['train_seconds'])" "$1" "$PROBE"
}
click() {  # channels iterations out log
  $PY -m lunglab.ml.interactive_train --iterations "$2" --batch-size 12 --lr 2e-3 --seed 0 \
    --threads "$THREADS" --loop-clicks "$CLICK_LOOP" --starts .gpukit/starts.npz --channels "$1" \
    --device "$DEVICE" --out "$3" > "$4" 2>&1
}
click_rate() {  # log -> iterations per second (the last "it N/M loss L Ss" line)
  $PY -c "import re, sys; m = re.findall(r'it (\d+)/\d+ loss \S+ (\d+)s', open(sys.argv[1]).read()); print(int(m[-1][0]) / max(1, int(m[-1][1])))" "$1"
}
iters() {  # rate -> iterations that fit the budget
  $PY -c "import sys; r, b, hi, lo = map(float, sys.argv[1:]); print(int(max(lo, min(hi, r * b // 500 * 500))))" "$1" "$BUDGET_S" "$MAX_ITER" "$MIN_ITER"
}

# 1. probe under the load of step 2
for a in $ARCHS; do
  for i in 0 1 2 3 4 5; do train "$a" "$PROBE" "$WORK/probe-$a-$i.pt" "$WORK/probe-$a-$i.log" & done
done
for c in $CLICK_CHANNELS; do click "$c" "$CLICK_PROBE" "$WORK/probe-click-$c.pt" "$WORK/probe-click-$c.log" & done
wait
declare -A RATE IT
for a in $ARCHS; do
  RATE[$a]=$(rate "$WORK/probe-$a-0.log") || { cat "$WORK/probe-$a-0.log"; exit 4; }
  IT[$a]=$(iters "${RATE[$a]}")
  echo "probe: $a ${RATE[$a]} it/s -> ${IT[$a]} iterations ($(( $(date +%s) - T0 )) s so far)"
done
for c in $CLICK_CHANNELS; do
  RATE[click-$c]=$(click_rate "$WORK/probe-click-$c.log") || { cat "$WORK/probe-click-$c.log"; exit 4; }
  IT[click-$c]=$(iters "${RATE[click-$c]}")
  echo "probe: click network $c ${RATE[click-$c]} it/s -> ${IT[click-$c]} iterations"
done

# 2. folds and members, in parallel
for a in $ARCHS; do
  for f in 0 1 2 3 4; do
    $PY bench/quality.py --kfold 5 --arch "$a" --iterations "${IT[$a]}" --threads "$THREADS" --device "$DEVICE" \
      --folds "$f" --out-dir "$WORK/folds-$a" --json "$WORK/fold-$a-$f.json" > "$WORK/fold-$a-$f.log" 2>&1 &
  done
  train "$a" "${IT[$a]}" "$(member_out "$a")" "$WORK/member-$a.log" &
done
for c in $CLICK_CHANNELS; do
  click "$c" "${IT[click-$c]}" "$(click_out "$c")" "$WORK/click-$c.log" &
done
wait
T1=$(date +%s)

# 3. results
JSON="{\"gpu\": $($PY -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read().strip()))' "$WORK/gpu.txt"), \"seconds\": $((T1 - T0)), \"budget_s\": $BUDGET_S, \"archs\": {"
sep=""
for a in $ARCHS; do
  $PY bench/quality.py --merge "$WORK"/fold-"$a"-?.json > "$OUT/kfold-$a.md" 2>&1
  echo "== $a, ${IT[$a]} iterations"; cat "$OUT/kfold-$a.md"
  JSON="$JSON$sep\"$a\": {\"it_per_s\": ${RATE[$a]}, \"iterations\": ${IT[$a]}}"; sep=", "
done
for c in $CLICK_CHANNELS; do
  JSON="$JSON$sep\"click-$c\": {\"it_per_s\": ${RATE[click-$c]}, \"iterations\": ${IT[click-$c]}}"; sep=", "
done
echo "$JSON}}" > "$OUT/run.json"
cat "$OUT/run.json"
missing=""
for a in $ARCHS; do [ -s "$(member_out "$a")" ] || missing="$missing $a"; done
for c in $CLICK_CHANNELS; do [ -s "$(click_out "$c")" ] || missing="$missing click-$c"; done
tar -czf "$OUT/logs.tar.gz" -C "$WORK" $(cd "$WORK" && ls ./*.log ./*.txt)
ls -la "$OUT"
[ -z "$missing" ] || { echo "no checkpoint from:$missing (see logs.tar.gz)" >&2; exit 5; }
