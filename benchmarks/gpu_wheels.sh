#!/usr/bin/env bash
# Prepare, on a machine with network, the Python packages that benchmarks/gpu_check.sh needs on a
# GPU machine that has only the driver, Python 3.12 and a CUDA build of torch (no registry there).
#
#   bash benchmarks/gpu_wheels.sh [--part-mib 56] [--keep-warp-clang]
#
# What the GPU machine lacks (its image already has torch+CUDA, numpy, scipy, pyyaml, rich, tqdm,
# tensorboard, opencv, imageio, psutil, protobuf, absl-py, etils, pytest, pytest-benchmark):
# warp-lang, mujoco-warp, mujoco + mujoco-core, gymnasium + farama-notifications, rl-games +
# tensorboardX, setproctitle, watchdog, trimesh, shapely (the v2p CLI imports the generator), and
# the Panda URDF and meshes of pybullet_data (not pybullet). Not carried and not needed by the
# check: coacd, rtree (collision parts of the shipped tasks are cached in the repo), imageio-ffmpeg
# (videos), stable-baselines3/skrl. Versions are the ones installed here (the tested set), else the
# newest.
#
# warp-lang's wheel alone is 149 MB (warp/bin/warp.so is 299 MB: NVRTC and CUDA kernels linked in;
# xz -9 still leaves 78 MB), over the 64 MiB that one device call may carry with the working tree.
# So this script installs the wheels for CPython 3.12 / manylinux x86_64 into a folder (pip install
# --target, as the device would), drops what the check never uses (warp-clang.so: Warp's CPU device,
# 69 MB; tests, examples; mujoco's optional studio/renderer wheel; pybullet itself), packs the folder
# as one tar.xz (~86 MiB) and splits it into parts of at most --part-mib MiB: .whl/part0/ (56 MiB),
# .whl/part1/ (~30 MiB), each with a MANIFEST (part count, sha256, packages). Each device call
# carries one part plus the working tree; every call but the last only stashes its part in /tmp of
# the machine, which stays warm for ~30 s after a call, so make the calls back to back:
#   call 1: carry [".whl/part0"], timeout_s 120:
#     mkdir -p /tmp/v2p_stage && cp .whl/part0/* /tmp/v2p_stage/ && ls -l /tmp/v2p_stage && nvidia-smi -L
#   call 2: carry [".whl/part1"], timeout_s 600: bash benchmarks/gpu_check.sh OUT (see its header)
# gpu_check.sh joins the parts (.whl/part*/ or /tmp/v2p_stage/), checks the sha256 and unpacks them
# into /tmp/v2p_site (PYTHONPATH); if part 0 is missing (the machine went cold), it says so and stops.
# Everything lands in .whl/, which this script adds to .git/info/exclude (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."

PART_MIB=56
KEEP_CLANG=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --part-mib) PART_MIB="$2"; shift 2 ;;
    --keep-warp-clang) KEEP_CLANG=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

WHL=.whl
exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >>"$exclude"

PLATFORM=(--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none
          --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
          --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_5_x86_64)
NAMES=(warp-lang mujoco-warp mujoco mujoco-core gymnasium farama-notifications rl-games tensorboardX shapely
       setproctitle watchdog trimesh)
PKGS=()
for name in "${NAMES[@]}"; do
  ver="$(python3 -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name" 2>/dev/null || true)"
  PKGS+=("$name${ver:+==$ver}")
done
echo "packages: ${PKGS[*]}"

mkdir -p "$WHL/download"
python3 -m pip download -q --no-deps "${PLATFORM[@]}" -d "$WHL/download" "${PKGS[@]}"

site="$WHL/site"
rm -rf "$site"
python3 -m pip install -q --no-index --find-links "$WHL/download" --no-deps --no-compile "${PLATFORM[@]}" \
  --target "$site" "${PKGS[@]}"

# The Panda URDF and meshes (Apache-2.0) without the rest of pybullet (a ~100 MB wheel).
pbd="$(python3 -c 'import pybullet_data; print(pybullet_data.getDataPath())')"
mkdir -p "$site/pybullet_data"
cp "$pbd/__init__.py" "$site/pybullet_data/"
cp -r "$pbd/franka_panda" "$site/pybullet_data/"

# Not used by the check.
[[ $KEEP_CLANG == 1 ]] || rm -f "$site/warp/bin/warp-clang.so"
rm -rf "$site/bin" "$site/warp/examples" "$site/warp/tests" "$site/mujoco_warp/test_data" "$site/mujoco/testdata"
find "$site" -name '*_test.py' -delete
find "$site" -name '__pycache__' -prune -exec rm -rf {} +

archive="$WHL/v2p-site.tar.xz"
echo "packing $(du -sh "$site" | cut -f1) into $archive (xz -9, a few minutes)"
tar -C "$site" -cf - . | xz -T0 -9 >"$archive"
sha="$(sha256sum "$archive" | cut -d' ' -f1)"

rm -rf "$WHL"/part*
split -b "${PART_MIB}M" -d -a 1 "$archive" "$WHL/chunk."
parts=("$WHL"/chunk.*)
for i in "${!parts[@]}"; do
  mkdir -p "$WHL/part$i"
  mv "${parts[$i]}" "$WHL/part$i/v2p-site.tar.xz.$i"
  printf 'parts=%d\nsha256=%s\npackages=%s\n' "${#parts[@]}" "$sha" "${PKGS[*]}" >"$WHL/part$i/MANIFEST"
done
rm -f "$archive"
rm -rf "$site"

# What travels in each call: the working tree (tracked + untracked-not-ignored) plus one part.
tree_bytes="$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | du -cb --files0-from=- | tail -1 | cut -f1)"
limit=$((64 * 1024 * 1024))
echo
echo "working tree: $((tree_bytes / 1024)) KiB; call limit: 64 MiB"
ok=1
for ((i = 0; i < ${#parts[@]}; i++)); do
  bytes="$(du -cb "$WHL/part$i" | tail -1 | cut -f1)"
  total=$((bytes + tree_bytes))
  verdict=fits; ((total <= limit)) || { verdict="DOES NOT FIT"; ok=0; }
  echo "call $((i + 1)) of ${#parts[@]}: carry .whl/part$i ($((bytes / 1024)) KiB) + tree = $((total / 1024)) KiB: $verdict"
done
((ok)) || { echo "lower --part-mib" >&2; exit 1; }
