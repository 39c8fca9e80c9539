#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and starts JupyterLab on the lessons in notebooks/,
# bound to 127.0.0.1, without opening a browser; prints the URL to open. Stop it with Ctrl-C.
#
#   JUPYTER_PORT   first port to try (default 8888; the next free one is used)
#   JUPYTER_TOKEN  the login token (default: a random one)
#   SPRITE_DIFFUSION_NOTEBOOK_DIR  the folder JupyterLab shows (default: notebooks/)
# Extra arguments go to `jupyter lab` (e.g. --ip=0.0.0.0 to serve other machines).
# SPRITE_DIFFUSION_SKIP_SETUP=1 skips the set-up (the browser test, right after test.sh's).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[[ "${SPRITE_DIFFUSION_SKIP_SETUP:-}" == 1 ]] || bash scripts/setup.sh

# The project's kernelspec ahead of any user-level one with the same name.
export JUPYTER_PATH="$ROOT/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_PLATFORM_DIRS=1

port=$(.venv/bin/python - "${JUPYTER_PORT:-8888}" <<'PY'
import socket, sys
first = int(sys.argv[1])
for port in range(first, first + 100):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
else:
    sys.exit(f"no free port in {first}..{first + 99}")
PY
)
token="${JUPYTER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')}"

notebook_dir="${SPRITE_DIFFUSION_NOTEBOOK_DIR:-$ROOT/notebooks}"
[[ -n ${SPRITE_DIFFUSION_NOTEBOOK_DIR:-} ]] || mkdir -p "$notebook_dir"
[[ -d $notebook_dir ]] || { echo "start.sh: no folder $notebook_dir to show" >&2; exit 1; }

echo "JupyterLab: http://127.0.0.1:$port/lab?token=$token"
echo "(notebooks in $notebook_dir; Ctrl-C here stops JupyterLab)"
as_root=()
[[ $(id -u) -ne 0 ]] || as_root=(--allow-root) # containers and CI run as root
exec .venv/bin/jupyter lab "${as_root[@]}" --no-browser --ip=127.0.0.1 --port="$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" --ServerApp.root_dir="$notebook_dir" \
  --MultiKernelManager.default_kernel_name=tslab "$@"
