#!/usr/bin/env bash
# Train the shipped Model-3 ensembles on one GPU machine (used for the default model).
#
# Expects, relative to the repository root: src/ (hopscreen), .whl/ (py3.12 wheels of
# pydantic & co. when the machine lacks them), .devdata/ (a copy of the data folder with
# the same layout as HOPSCREEN_DATA_DIR). Writes the model folders under $OUT (or runs/).
# Budget knobs: PT_MIN (pre-training minutes), FT_MIN (minutes per ensemble member).
set -uo pipefail
OUT=${OUT:-runs/out}
PT_MIN=${PT_MIN:-2.5}
FT_MIN=${FT_MIN:-1.0}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-16}
PRESET=${PRESET:-paper}
LIMIT=${LIMIT:+--limit $LIMIT}
mkdir -p "$OUT" runs
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="$PWD/src:/tmp/site"
else
  export PYTHONPATH="$PWD/src"
fi
export PYTHONUNBUFFERED=1 HOPSCREEN_DATA_DIR="$PWD/.devdata"
train() { python3 -c 'from hopscreen.cli.train import app; app()' "$@"; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())'
t0=$(date +%s)
train pretrain --preset $PRESET --out runs/pt --device $DEVICE --workers $WORKERS $LIMIT \
  --max-minutes "$PT_MIN" --cache-dir runs/gcache 2>&1 | grep -v " epoch " | tail -5
echo "pretrain done after $(( $(date +%s) - t0 )) s"
python3 - <<'PY'
from safetensors.torch import load_file, save_file
s = load_file("runs/pt/backbone.safetensors")
save_file({k: v.half() if v.is_floating_point() else v for k, v in s.items()},
          "runs/backbone_fp16.safetensors")
PY
cp runs/backbone_fp16.safetensors "$OUT/" 2>/dev/null
for variant in plain marked; do
  flag=--no-mark-ion-copies; [ "$variant" = marked ] && flag=--mark-ion-copies
  train finetune --preset $PRESET --backbone runs/pt/backbone.safetensors --out "runs/$variant" \
    --ensemble 2 $flag --max-minutes "$FT_MIN" --dtype float16 --device $DEVICE --workers $WORKERS \
    --cache-dir runs/gcache --name "model3-$PRESET-$variant" 2>&1 | grep -v " epoch " | tail -4
  echo "finetune $variant done after $(( $(date +%s) - t0 )) s"
  # copy as we go, so that a run cut short still returns what it finished (at most 8 files)
  for f in runs/$variant/member*.safetensors; do cp "$f" "$OUT/${variant}_$(basename "$f")"; done
  cp "runs/$variant/model_card.json" "$OUT/${variant}_model_card.json"
  python3 -m hopscreen.training.quickscore "runs/$variant" || true
done
tar czf "$OUT/meta.tar.gz" runs/pt/pretrain_summary.json runs/pt/train.log runs/*/model_card.json \
  runs/*/train.log runs/*/quickscore.json 2>/dev/null
echo "all done after $(( $(date +%s) - t0 )) s"
