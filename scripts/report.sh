#!/usr/bin/env bash
# `npm run report`: executes every lesson in notebooks/ (or the notebooks given as arguments)
# headlessly through the tslab kernel and writes, per lesson, the executed notebook, a
# self-contained HTML page and the images into reports/<lesson>/, plus reports/summary.json
# (timings). Full runs by default; SPRITE_DIFFUSION_QUICK=1 shrinks the work.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh

notebooks=("$@")
if [[ ${#notebooks[@]} -eq 0 ]]; then
  shopt -s nullglob
  notebooks=(notebooks/*.ipynb)
  [[ ${#notebooks[@]} -gt 0 ]] || { echo "[report] no notebooks in notebooks/ yet"; exit 0; }
fi
.venv/bin/python scripts/execute-notebooks.py --report reports "${notebooks[@]}" >/dev/null
echo "[report] written to $ROOT/reports (summary: reports/summary.json)"
