#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and starts JupyterLab on the lessons in notebooks/,
# bound to 127.0.0.1, without opening a browser; prints the URL to open. Stop it with Ctrl-C.
#
#   JUPYTER_PORT   first port to try (default 8888; the next free one is used)
#   JUPYTER_TOKEN  the login token (default: a random one)
# Extra arguments go to `jupyter lab` (e.g. --ServerApp.root_dir=DIR, --ip=0.0.0.0).
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

echo "JupyterLab: http://127.0.0.1:$port/lab?token=$token"
echo "(lessons in $ROOT/notebooks; Ctrl-C here stops JupyterLab)"
exec .venv/bin/jupyter lab --no-browser --ip=127.0.0.1 --port="$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" --ServerApp.root_dir="$ROOT/notebooks" "$@"
