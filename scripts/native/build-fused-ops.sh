#!/usr/bin/env bash
# Builds the library's own TensorFlow ops (src/native/*.c: GELU, SiLU and GroupNorm with their
# gradients) into .native/fused-ops/sprite_fused_ops.node, against the libtensorflow that
# @tensorflow/tfjs-node loads. Called by scripts/native-tfjs.sh once tfjs-node loads; run from the
# project root. Compiled for this machine's CPU (-march=native) and cached under a key of the
# source, the compiler, the CPU's flags and the libtensorflow, so a change of any rebuilds it.
# Never fails the set-up: prints one line, "fused ops: ..." (src/lib/perf runs TensorFlow's
# separate kernels when the addon is missing).
set -uo pipefail

root="$(pwd)"
source_dir="$root/src/native"
out_dir="$root/.native/fused-ops"
addon="$out_dir/sprite_fused_ops.node"

not_built() {
  echo "fused ops: not built ($1); GELU, SiLU and GroupNorm run as tfjs's composites of TensorFlow ops"
  exit 0
}

sources=("$source_dir"/*.c)
[ -f "${sources[0]}" ] || not_built "no C sources in $source_dir"
command -v gcc >/dev/null 2>&1 || not_built "gcc not found (apt-get install build-essential)"
tf_lib="$(node -e "
  const path = require('path');
  process.stdout.write(path.join(path.dirname(require.resolve('@tensorflow/tfjs-node/package.json')), 'deps', 'lib'));
" 2>/dev/null)" || not_built "@tensorflow/tfjs-node is not installed"
[ -e "$tf_lib/libtensorflow.so.2" ] || not_built "no libtensorflow.so.2 in $tf_lib"

node_include=""
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
for candidate in "${npm_config_nodedir:-}" "$node_prefix" /usr /usr/local; do
  if [ -n "$candidate" ] && [ -f "$candidate/include/node/node_api.h" ]; then node_include="$candidate/include/node"; break; fi
done
[ -n "$node_include" ] || not_built "Node's headers (include/node/node_api.h) not found next to $(command -v node)"

key="$( { cat "$source_dir"/*.c "$source_dir"/*.h "$0"; gcc --version | head -n 1; grep -m 1 '^flags' /proc/cpuinfo; readlink -f "$tf_lib/libtensorflow.so.2"; } | sha256sum | cut -c1-16)"
if [ -f "$addon" ] && [ "$(cat "$out_dir/key" 2>/dev/null)" = "$key" ]; then
  echo "fused ops: ready ($addon, built before for this source and CPU)"
  exit 0
fi

mkdir -p "$out_dir" || not_built "cannot create $out_dir"
rm -f "$addon" "$out_dir/key"
staged="$out_dir/sprite_fused_ops.staged.node"
# -fno-trapping-math lets gcc vectorise the float-to-int step of exp; it changes no result.
# --allow-shlib-undefined: the wheel's libtensorflow leaves Python's symbols to a stub tfjs-node loads.
if ! gcc -O3 -march=native -fno-trapping-math -fPIC -shared -pthread -I"$node_include" \
  -DNODE_GYP_MODULE_NAME=sprite_fused_ops "${sources[@]}" -o "$staged" \
  -L"$tf_lib" -l:libtensorflow.so.2 -Wl,-rpath,"$tf_lib" -Wl,--allow-shlib-undefined -lm \
  >"$out_dir/build.log" 2>&1; then
  not_built "gcc failed, see $out_dir/build.log"
fi
# Loading registers the ops in TensorFlow: the addon is kept only if that works beside tfjs-node.
TF_CPP_MIN_LOG_LEVEL=2 node -e "
  require('@tensorflow/tfjs-node');
  const addon = { exports: {} };
  process.dlopen(addon, process.argv[1]);
  if (!Array.isArray(addon.exports.ops) || addon.exports.ops.length === 0) throw new Error('the addon registered no ops');
  console.log('registered ' + addon.exports.ops.join(', '));
" "$staged" >>"$out_dir/build.log" 2>&1 || not_built "the built addon does not load beside tfjs-node, see $out_dir/build.log"
mv "$staged" "$addon" && echo "$key" >"$out_dir/key" || not_built "cannot write $addon"
echo "fused ops: ready ($addon: GELU, SiLU, GroupNorm)"
