#!/usr/bin/env bash
# Print the path of a CPython 3.12 (preferred: the Lambda runtime of template.yaml) or 3.13.
# Looks on PATH first, then in pyenv's versions. Exits 1 with a clear message if none is found.
set -euo pipefail
for v in 3.12 3.13; do
  # pyenv shims may exist on PATH without a working interpreter behind them: run it to be sure.
  if p=$(command -v "python$v" 2>/dev/null) && "$p" -c 'import sys' >/dev/null 2>&1; then
    case "$p" in */shims/*) ;; *) echo "$p"; exit 0 ;; esac
  fi
  for root in "${PYENV_ROOT:-$HOME/.pyenv}" /root/.pyenv /usr/local/pyenv; do
    for d in "$root"/versions/"$v".*; do
      if [ -x "$d/bin/python$v" ]; then echo "$d/bin/python$v"; exit 0; fi
    done
  done
done
echo "meshgov needs Python 3.12 or 3.13 (the Lambda runtime). Install one (e.g. 'pyenv install 3.12') and retry." >&2
exit 1
