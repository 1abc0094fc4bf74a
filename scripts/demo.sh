#!/usr/bin/env bash
# Set-up, then the main job end to end on the bundled digits data set: train a network, evaluate it
# on the held-out rows (confusion matrix, per-class report), and inspect and verify the checkpoint.
# Outputs go to $NNKIT_DEMO_DIR (default /tmp/nnkit-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release
bin="$(swift build -c release --show-bin-path)"
out="${NNKIT_DEMO_DIR:-/tmp/nnkit-demo}"
mkdir -p "$out"

echo "== nntrain: digits (1,437 rows, 64 features, 10 classes)"
"$bin/nntrain" --data fixtures/data/digits_train.csv --label label \
  --layers 128:relu,64:relu --optimizer adam --lr 0.001 --batch-size 32 --epochs 50 \
  --validation-split 0.1 --early-stopping 10 --seed 0 \
  --report "$out/training.html" --output "$out/digits.nnck"

echo; echo "== nninfer: held-out digits (360 rows)"
"$bin/nninfer" "$out/digits.nnck" fixtures/data/digits_test.csv \
  --output "$out/predictions.csv" --metrics "$out/metrics.json" --report "$out/evaluation.html"

echo; echo "== nninspect"
"$bin/nninspect" "$out/digits.nnck"
"$bin/nninspect" verify "$out/digits.nnck"

echo; echo "Outputs in $out: digits.nnck, predictions.csv, metrics.json, training.html, evaluation.html"
