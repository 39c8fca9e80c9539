#!/usr/bin/env bash
# Builds tfjs-node's N-API addon (tfjs_binding.node) against libtensorflow taken from the PyPI
# wheel tensorflow-cpu, with no download from outside the package registries.
# Called by scripts/native-tfjs.sh; the last line printed on failure is the reason.
# Usage: build-addon.sh PKG_DIR CACHE_DIR ADDON_CACHE_DIR WHEEL_GLOB TF_VERSION NAPI_BUILD_VERSION
# Result: ADDON_CACHE_DIR/{lib/napi-vN/tfjs_binding.node, deps/lib/*, ok}
set -euo pipefail
pkg="$1" cache="$2" addon_cache="$3" wheel_glob="$4" tf_version="$5" napi="$6"
here="$(cd "$(dirname "$0")" && pwd)"

die() { echo "$*"; exit 1; }
for tool in gcc g++ make readelf python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (needed to build the addon; apt-get install build-essential binutils python3)"
done

# --- the wheel (207 MB, from PyPI) ---------------------------------------------------------------
mkdir -p "$cache/wheel"
find_wheel() { find "$cache/wheel" -maxdepth 1 -name "$wheel_glob" | head -n 1; }
wheel="$(find_wheel)"
if [ -z "$wheel" ]; then
  # tensorflow-cpu 2.9.1 has wheels up to CPython 3.10: fetch the file only, never install it.
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.10 \
    --platform manylinux2014_x86_64 --timeout 60 --retries 3 \
    "tensorflow-cpu==${tf_version}" -d "$cache/wheel" ||
    die "pip download tensorflow-cpu==${tf_version} from PyPI failed"
  wheel="$(find_wheel)"
  [ -n "$wheel" ] || die "pip download gave no file matching $wheel_glob"
fi

# --- the libraries and C headers out of the wheel -------------------------------------------------
tf_dir="$cache/tf-${tf_version}"
if [ ! -f "$tf_dir/ok" ]; then
  rm -rf "$tf_dir"
  python3 - "$wheel" "$tf_dir" <<'EOF' || die "extracting libtensorflow from $(basename "$wheel") failed"
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
wanted_files = {"tensorflow/libtensorflow_framework.so.2",
                "tensorflow/python/_pywrap_tensorflow_internal.so"}
wanted_dirs = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/")
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n in wanted_files or n.startswith(wanted_dirs)]
    missing = wanted_files - set(names)
    if missing:
        sys.exit(f"the wheel lacks {sorted(missing)}")
    for name in names:
        z.extract(name, out)
EOF
  touch "$tf_dir/ok"
fi
capi="$tf_dir/tensorflow/python/_pywrap_tensorflow_internal.so"
framework="$tf_dir/tensorflow/libtensorflow_framework.so.2"
[ -f "$tf_dir/tensorflow/include/tensorflow/c/eager/c_api.h" ] || die "the wheel has no tensorflow/c/eager/c_api.h"
readelf --dyn-syms -W "$capi" | grep " TFE_Execute@" >/dev/null || die "$capi does not export the TensorFlow C API (TFE_Execute)"

# --- a build copy of the package with deps/{include,lib} ------------------------------------------
build="$cache/build/tfjs-node"
rm -rf "$cache/build" && mkdir -p "$build"
(cd "$pkg" && tar cf - --exclude=./node_modules --exclude=./lib --exclude=./deps --exclude=./build .) |
  (cd "$build" && tar xf -)
mkdir -p "$build/deps/lib"
ln -s "$tf_dir/tensorflow/include" "$build/deps/include"
lib="$build/deps/lib"
# The C API lives in the Python extension; its SONAME is _pywrap_tensorflow_internal.so, so the
# addon records that name and the file keeps it. libtensorflow.so(.2) are the names binding.gyp
# links with (-ltensorflow) and scripts/install.js looks for.
cp -l "$capi" "$lib/" 2>/dev/null || cp "$capi" "$lib/"
cp -l "$framework" "$lib/" 2>/dev/null || cp "$framework" "$lib/"
ln -s _pywrap_tensorflow_internal.so "$lib/libtensorflow.so.2"
ln -s libtensorflow.so.2 "$lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$lib/libtensorflow_framework.so"
# The Python C-API symbols that extension leaves undefined (BIND_NOW): stubs, linked into the addon.
bash "$here/py-stub.sh" "$capi" "$cache/build/tfjs_pystub.c"
gcc -O2 -shared -fPIC -Wl,-soname,libtfjs_pystub.so -o "$lib/libtfjs_pystub.so" "$cache/build/tfjs_pystub.c" ||
  die "compiling the Python C-API stub library failed"

# --- node-gyp with the local Node headers (--nodedir: nothing is downloaded) ----------------------
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
nodedir=""
for candidate in "${npm_config_nodedir:-}" "$(npm config get nodedir 2>/dev/null || true)" "$node_prefix" /usr /usr/local; do
  if [ -n "$candidate" ] && [ -f "$candidate/include/node/node_api.h" ]; then nodedir="$candidate"; break; fi
done
[ -n "$nodedir" ] || die "Node headers (include/node/node_api.h) not found next to $(command -v node); install the Node development headers"
node_gyp=""
npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
for candidate in "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" "$node_prefix/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"; do
  if [ -f "$candidate" ]; then node_gyp="$candidate"; break; fi
done
[ -n "$node_gyp" ] || die "node-gyp not found (it ships with npm: lib/node_modules/npm/node_modules/node-gyp)"
(
  cd "$build"
  LDFLAGS="-Wl,--no-as-needed -L$lib -ltfjs_pystub" node "$node_gyp" rebuild --nodedir="$nodedir" \
    --module_name=tfjs_binding --module_path="$build/lib/napi-v${napi}" --napi_build_version="$napi" -j 2
) || die "node-gyp build of tfjs_binding.node failed"
addon="$build/lib/napi-v${napi}/tfjs_binding.node"
[ -f "$addon" ] || die "node-gyp gave no $addon"
version="$(node -e "process.stdout.write(require(process.argv[1]).TF_Version)" "$addon")" ||
  die "the built addon does not load (see the log)"
[ "$version" = "$tf_version" ] || die "the built addon reports TensorFlow $version, expected $tf_version"

# --- the cache entry ---------------------------------------------------------------------------------
rm -rf "$addon_cache" "$addon_cache.tmp"
mkdir -p "$addon_cache.tmp/lib" "$addon_cache.tmp/deps"
cp -a "$build/lib/napi-v${napi}" "$addon_cache.tmp/lib/"
cp -al "$lib" "$addon_cache.tmp/deps/" 2>/dev/null || cp -a "$lib" "$addon_cache.tmp/deps/"
mv "$addon_cache.tmp" "$addon_cache"
touch "$addon_cache/ok"
echo "built $addon_cache (TensorFlow $version)"
