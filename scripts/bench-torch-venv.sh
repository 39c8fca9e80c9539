#!/usr/bin/env bash
# The bench's PyTorch reference: current PyTorch from PyPI in .venv-torch/ (git-ignored).
#
#   bash scripts/bench-torch-venv.sh      # from anywhere; `npm run bench` runs it on first use
#
# Creates .venv-torch with Debian's /usr/bin/python3 -m venv (else python3 on PATH) and installs
# scripts/bench-torch-requirements.txt (torch and numpy, pinned). PyPI's Linux torch wheel pulls
# NVIDIA's CUDA libraries and needs them to import, even on the CPU: about 3 GB to download and
# 5.4 GiB on disk (measured 2026-12-04 for torch 2.15.0: 3.0 GB over the network, made in 2 min 40 s
# on a loaded 2-core machine with a fast link).
# Idempotent: an environment whose stamp matches the requirements file and whose torch is the
# pinned version is reused in well under a second; otherwise it is made again from scratch.
# Prints the python to use as its last line of stdout; exits 1 (with the reason on stderr) when it
# cannot make the environment. The tests never use it: they run Debian's python3-torch 1.13.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-torch"
REQUIREMENTS="$ROOT/scripts/bench-torch-requirements.txt"
STAMP="$VENV/.sprite-diffusion-bench-torch"
PY="$VENV/bin/python"

say() { printf '[bench-torch] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ -f $REQUIREMENTS ]] || die "missing $REQUIREMENTS"
TORCH_PIN=$(sed -n 's/^torch==\([^[:space:]#]*\).*/\1/p' "$REQUIREMENTS")
[[ -n $TORCH_PIN ]] || die "no torch==VERSION line in $REQUIREMENTS"
key="$(sha256sum <"$REQUIREMENTS" | cut -c1-64)"

# torch.__version__ without a local suffix (2.15.0+cu130 -> 2.15.0), or nothing when it does not import.
torch_version() { "$PY" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true; }

if [[ -x $PY && -f $STAMP && "$(cat "$STAMP")" == "$key" ]]; then
  echo "$PY"
  exit 0
fi

BASE_PYTHON=""
for candidate in /usr/bin/python3 "$(command -v python3 || true)"; do
  if [[ -n $candidate && -x $candidate ]] && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
    BASE_PYTHON=$candidate
    break
  fi
done
[[ -n $BASE_PYTHON ]] || die "no python3 with venv and ensurepip (apt-get install python3-venv)"

# An environment made by hand (or before the stamp existed) with the pinned torch: keep it.
if [[ -x $PY && "$(torch_version)" == "$TORCH_PIN" ]] &&
  "$PY" -m pip install --quiet --disable-pip-version-check --no-cache-dir -r "$REQUIREMENTS" >&2; then
  echo "$key" >"$STAMP"
  say "reusing $VENV (torch $TORCH_PIN)"
  echo "$PY"
  exit 0
fi

free_gb=$(df -Pk "$ROOT" | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
say "making $VENV: PyTorch $TORCH_PIN from PyPI with $("$BASE_PYTHON" --version)."
say "PyPI's Linux torch wheel pulls NVIDIA's CUDA libraries and needs them to import, even on the CPU:"
say "about 3 GB to download, 5.4 GiB on disk (${free_gb} GB free here); about 3 min on a fast link. Once only."
[[ $free_gb -ge 8 ]] || die "less than 8 GB free on $(df -P "$ROOT" | awk 'NR == 2 { print $6 }')"
started=$SECONDS
log="$(mktemp)"
rm -rf "$VENV"
"$BASE_PYTHON" -m venv "$VENV" || die "$BASE_PYTHON -m venv $VENV failed"
# --no-cache-dir: the wheels would take another 3 GB in ~/.cache/pip.
if ! "$PY" -m pip install --disable-pip-version-check --no-cache-dir --progress-bar off -r "$REQUIREMENTS" >"$log" 2>&1; then
  tail -n 5 "$log" >&2
  rm -rf "$VENV"
  die "pip install -r $REQUIREMENTS failed (log: $log)"
fi
[[ "$(torch_version)" == "$TORCH_PIN" ]] || die "torch in $VENV does not import as $TORCH_PIN (log: $log)"
# pip logs "Downloading NAME.whl (123.4 MB)" per file: the sum is what came over the network.
downloaded=$(sed -n 's/.*Downloading .* (\([0-9.]*\) \([kMG]B\))$/\1 \2/p' "$log" |
  awk '{ f = $2 == "GB" ? 1e9 : $2 == "MB" ? 1e6 : 1e3; s += $1 * f } END { printf "%.2f", s / 1e9 }')
on_disk=$(du -sk "$VENV" | awk '{ printf "%.1f", $1 / 1048576 }')
echo "$key" >"$STAMP"
rm -f "$log"
say "ready: torch $TORCH_PIN in $VENV; downloaded ${downloaded} GB, ${on_disk} GiB on disk, in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
echo "$PY"
