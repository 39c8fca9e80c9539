#!/usr/bin/env bash
# Native TensorFlow for TensorFlow.js without the internet download of @tensorflow/tfjs-node.
#
# Run from the project root after `npm ci` / `npm install`:   bash scripts/native-tfjs.sh
#
# If `require('@tensorflow/tfjs-node')` already works (a user with internet whose npm ran the
# package's own install script), this prints one line and does nothing else. Otherwise it:
#   1. puts @tensorflow/tfjs-node 4.22.0 into node_modules with --no-save --ignore-scripts
#      (unless npm already brought its files, e.g. as an optional dependency);
#   2. takes libtensorflow 2.9.1 (the version tfjs-node 4.22 is built for) from the PyPI wheel
#      tensorflow-cpu 2.9.1, cached in .native/ (git-ignored);
#   3. builds the N-API addon with node-gyp against the local Node headers (no download), once,
#      and caches it in .native/addon-*/; later runs only copy it back (seconds);
#   4. verifies it: same tfjs-core engine as the project, conv2d forward + gradients, erf,
#      conv2dTranspose, maxPool gradient and moments equal to the cpu backend;
#   5. builds the library's own fused ops against it (scripts/native/build-fused-ops.sh), also
#      when tfjs-node loaded from the start.
# It never fails the set-up: on any problem it prints one line
#   native TensorFlow: not available (<reason>); falling back to wasm/cpu
# and exits 0. Details of every step go to .native/native-tfjs.log.
set -uo pipefail

TFJS_NODE_VERSION="4.22.0"
TF_VERSION="2.9.1"
NAPI_BUILD_VERSION="8" # node-pre-gyp's choice for Node >= 16 from the package's napi_versions 3..8
WHEEL_GLOB="tensorflow_cpu-${TF_VERSION}-cp310-cp310-manylinux*_x86_64.whl"

root="$(pwd)"
cache="$root/.native"
pkg="$root/node_modules/@tensorflow/tfjs-node"
addon_cache="$cache/addon-tfjs-node-${TFJS_NODE_VERSION}-tf-${TF_VERSION}-napi-v${NAPI_BUILD_VERSION}-linux-x64"
log="$cache/native-tfjs.log"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" # keep TensorFlow's start-up banner quiet

unavailable() {
  echo "native TensorFlow: not available ($1); falling back to wasm/cpu"
  exit 0
}

tfjs_node_loads() {
  node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1
}

# Hard links when the cache and node_modules share a file system (no copy of 500 MB), else copy.
copy_tree() { # copy_tree SRC_DIR DEST_PARENT
  cp -al "$1" "$2/" 2>/dev/null || cp -a "$1" "$2/"
}

[ -f "$root/package.json" ] || unavailable "run from the project root: no package.json in $root"
command -v node >/dev/null 2>&1 || unavailable "node not found"

# The library's own fused ops, compiled against the libtensorflow tfjs-node loads (never fails).
build_fused_ops() { bash "$root/scripts/native/build-fused-ops.sh"; }

if tfjs_node_loads; then
  echo "native TensorFlow: @tensorflow/tfjs-node already loads; nothing to do"
  build_fused_ops
  exit 0
fi

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
  unavailable "this build covers Linux x86_64 only, not $(uname -s)-$(uname -m)"
mkdir -p "$cache" || unavailable "cannot create $cache"
: >"$log" || unavailable "cannot write $log"
exec 3>>"$log"
note() { echo "[$(date +%T)] $*" >&3; }
run() { note "\$ $*"; "$@" >&3 2>&3; } # runs a command with its output in the log

# --- 1. the package files ----------------------------------------------------------------------
installed_version="$(node -p "require('$pkg/package.json').version" 2>/dev/null || true)"
if [ "$installed_version" != "$TFJS_NODE_VERSION" ]; then
  command -v npm >/dev/null 2>&1 || unavailable "npm not found"
  run timeout 900 npm install --no-save --ignore-scripts --no-audit --no-fund \
    "@tensorflow/tfjs-node@${TFJS_NODE_VERSION}" ||
    unavailable "npm install --no-save --ignore-scripts @tensorflow/tfjs-node@${TFJS_NODE_VERSION} failed, see $log"
fi
[ -f "$pkg/package.json" ] || unavailable "@tensorflow/tfjs-node is not in node_modules after npm install"
# The 'tensorflow' backend registers in the tfjs-core that tfjs-node resolves: it must be the
# project's own instance, not a nested copy.
node -e "
  const path = require('path');
  const fromPkg = require.resolve('@tensorflow/tfjs-core', { paths: [process.argv[1]] });
  process.exit(fromPkg === require.resolve('@tensorflow/tfjs-core') ? 0 : 1);
" "$pkg" || unavailable "@tensorflow/tfjs-node resolves a different @tensorflow/tfjs-core than the project"

# --- 2 + 3. the built addon, from the cache or built now ----------------------------------------
if [ ! -f "$addon_cache/ok" ]; then
  bash "$root/scripts/native/build-addon.sh" "$pkg" "$cache" "$addon_cache" "$WHEEL_GLOB" \
    "$TF_VERSION" "$NAPI_BUILD_VERSION" >&3 2>&3 ||
    unavailable "$(tail -n 1 "$log" | cut -c1-200)"
fi

# --- placing it into the package -----------------------------------------------------------------
note "placing $addon_cache into $pkg"
rm -rf "$pkg/lib" "$pkg/deps/lib" && mkdir -p "$pkg/deps" || unavailable "cannot write into $pkg"
copy_tree "$addon_cache/lib" "$pkg" && copy_tree "$addon_cache/deps/lib" "$pkg/deps" ||
  unavailable "copying the cached addon into $pkg failed"

# --- 4. verification -----------------------------------------------------------------------------
if ! verdict="$(node "$root/scripts/native/verify.js" 2>&3)"; then
  note "$verdict"
  rm -rf "$pkg/lib" # leave the package unloadable rather than wrong, so the project falls back
  unavailable "the built addon failed verification: ${verdict:0:160}"
fi
note "$verdict"
echo "native TensorFlow: ready (@tensorflow/tfjs-node ${TFJS_NODE_VERSION} on libtensorflow ${TF_VERSION}, verified against cpu)"
build_fused_ops
