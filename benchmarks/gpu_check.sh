#!/usr/bin/env bash
# One prepared check of the MuJoCo Warp GPU path (issue 16), in one output folder:
#   1. install what python3 lacks from the parts benchmarks/gpu_wheels.sh prepared in .whl/
#   2. env-step throughput vs bare MuJoCo Warp physics (ratio) and peak GPU memory,
#      PushLeft and ThrowGarlic at N = 8192, 4096, 1024: the target size first, because the first
#      row also compiles the kernels (144 s on the H200 on 2026-12-04) and the stage's time limit
#      then cuts the smaller sizes, not the target row
#   3. `v2p train` (rl-games PPO) on PushLeft at 8192 envs with --backend warp --max-time 180
#   4. `v2p eval` of its best and last checkpoints, ground truth, 3 seeds x 10 episodes
#   5. python -m pytest -m gpu tests/warp, with the time left
#   6. summary.json and summary.md
# The time limit ends training (after the epoch in which 180 s have passed); --steps is only a
# generous upper bound: PushLeft's env steps/s at 8192 envs from step 2 x 180 s x 2
# (V2P_GPU_CHECK_STEPS_MARGIN), in whole PPO epochs (`python -m benchmarks.gpu plan -h`).
# Each step has a time limit (SIGINT, SIGKILL 20 s later: a hang guard) and the next one runs
# even if it failed; the whole run keeps within V2P_GPU_CHECK_DEADLINE_S (default 540 s): a late
# step shortens the training time.
#
# On a GPU machine without network (this workplace's device tool): run benchmarks/gpu_wheels.sh
# here first; its parts go in two calls back to back, the machine staying warm in between
# (the first call only stashes .whl/part0 in /tmp/v2p_stage; see gpu_wheels.sh).
#
#   bash benchmarks/gpu_check.sh OUT           # on a CUDA machine
#   bash benchmarks/gpu_check.sh --tiny OUT    # the same commands on Warp's CPU device at tiny sizes
#                                              # (N = 2, 4; --max-time 2: one epoch; 1 episode x 2 seeds)
# OUT holds: gpu_check.log (all output), summary.json, summary.md, train_curve.png, bench.json, eval_best.json,
# eval_last.json, and work/ (env.json, stages.tsv, plan.json, pytest_gpu.xml, the run folder).
# Settings (environment): V2P_GPU_CHECK_DEADLINE_S, V2P_GPU_CHECK_TRAIN_S (180; --max-time),
# V2P_GPU_CHECK_STEPS_MARGIN (2), V2P_GPU_CHECK_SIZES ("8192 4096 1024"), V2P_GPU_CHECK_STEPS (100),
# V2P_GPU_CHECK_ROUNDS (3), V2P_GPU_CHECK_TRAIN_ENVS (8192), V2P_GPU_CHECK_COMMIT (the commit to
# record where the copy has no .git). Exit code: 0 if every step exited 0.
set -uo pipefail

MODE=gpu
if [[ "${1:-}" == "--tiny" ]]; then MODE=tiny; shift; fi
if [[ $# -ne 1 || "$1" == -* ]]; then sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 2; fi
mkdir -p "$1" || exit 2
OUT="$(cd "$1" && pwd)"
WORK="$OUT/work"
mkdir -p "$WORK"
cd "$(dirname "$0")/.."
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
: >"$WORK/stages.tsv"
export PYTHONUNBUFFERED=1

if [[ $MODE == gpu ]]; then
  DEADLINE=${V2P_GPU_CHECK_DEADLINE_S:-540}
  DEVICE=cuda
  SIZES=${V2P_GPU_CHECK_SIZES:-8192 4096 1024}
  STEPS=${V2P_GPU_CHECK_STEPS:-100}
  ROUNDS=${V2P_GPU_CHECK_ROUNDS:-3}
  TRAIN_ENVS=${V2P_GPU_CHECK_TRAIN_ENVS:-8192}
  TRAIN_S=${V2P_GPU_CHECK_TRAIN_S:-180}
  EPISODES=10; SEEDS="0 1 2"; TRAIN_EPISODE=(); FALLBACK_RATE=1000000
else
  DEADLINE=${V2P_GPU_CHECK_DEADLINE_S:-600}
  DEVICE=cpu
  SIZES=${V2P_GPU_CHECK_SIZES:-2 4}
  STEPS=${V2P_GPU_CHECK_STEPS:-3}
  ROUNDS=${V2P_GPU_CHECK_ROUNDS:-2}
  TRAIN_ENVS=${V2P_GPU_CHECK_TRAIN_ENVS:-4}
  TRAIN_S=${V2P_GPU_CHECK_TRAIN_S:-2}
  # 16-step training episodes: some end within the one epoch (evaluation keeps the task's length)
  EPISODES=1; SEEDS="0 1"; TRAIN_EPISODE=(--episode-length 16); FALLBACK_RATE=10
fi
MARGIN=${V2P_GPU_CHECK_STEPS_MARGIN:-2}
TRAIN_TASK=V2P-PushLeft-v0
RUN_DIR="$WORK/run"

left() { echo $((DEADLINE - SECONDS)); }
clamp() { local v=$1 lo=$2 hi=$3; ((v < lo)) && v=$lo; ((v > hi)) && v=$hi; echo "$v"; }
FAILED=0
# stage NAME LIMIT_S CMD...: run CMD under a time limit (SIGINT, then SIGKILL 20 s later), log it
stage() {
  local name=$1 limit=$2 t0=$SECONDS rc=0
  shift 2
  echo "=== [${SECONDS}s] $name (limit ${limit}s): $*"
  timeout -s INT -k 20 "$limit" "$@" || rc=$?
  printf '%s\t%d\t%d\t%d\n' "$name" "$rc" $((SECONDS - t0)) "$limit" >>"$WORK/stages.tsv"
  echo "=== [${SECONDS}s] $name: exit $rc after $((SECONDS - t0))s"
  ((rc == 0)) || FAILED=1
  return "$rc"
}
# skip NAME REASON [fail]: record a stage that did not run (a failure only with "fail")
skip() {
  printf '%s\t%d\t0\t0\n' "$1" 125 >>"$WORK/stages.tsv"
  echo "=== $1: skipped ($2)"
  [[ ${3:-} != fail ]] || FAILED=1
}

commit="${V2P_GPU_CHECK_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null)}"
echo "gpu_check mode=$MODE out=$OUT deadline=${DEADLINE}s $(date -u +%FT%TZ) commit=$commit"

# --- 1. packages ---------------------------------------------------------------------------
need_py='import mujoco, mujoco_warp, warp, gymnasium, rl_games, tensorboardX, trimesh, pybullet_data, torch'
install_site() {  # join and unpack the parts of benchmarks/gpu_wheels.sh into /tmp/v2p_site
  local site=/tmp/v2p_site manifest parts=() sha want
  manifest="$(ls .whl/part*/MANIFEST /tmp/v2p_stage/MANIFEST 2>/dev/null | head -1)"
  [[ -n $manifest ]] || { echo "no .whl/part*/MANIFEST: run benchmarks/gpu_wheels.sh and carry its parts"; return 1; }
  want="$(sed -n 's/^parts=//p' "$manifest")"
  for ((i = 0; i < want; i++)); do
    local f
    f="$(ls ".whl/part$i/v2p-site.tar.xz.$i" "/tmp/v2p_stage/v2p-site.tar.xz.$i" 2>/dev/null | head -1)"
    if [[ -z $f ]]; then
      echo "part $i of $want missing (not in .whl/part$i/ nor /tmp/v2p_stage/): carry it, or stash it in an earlier call"
      return 1
    fi
    parts+=("$f")
  done
  sha="$(cat "${parts[@]}" | sha256sum | cut -d' ' -f1)"
  [[ $sha == "$(sed -n 's/^sha256=//p' "$manifest")" ]] || { echo "sha256 mismatch of the joined parts"; return 1; }
  rm -rf "$site" && mkdir -p "$site" && cat "${parts[@]}" | xz -dc | tar -x -C "$site" || return 1
  echo "unpacked $(du -sh "$site" | cut -f1) into $site: $(sed -n 's/^packages=//p' "$manifest")"
}
if ! python3 -c "$need_py" 2>/dev/null; then
  site_path="/tmp/v2p_site${PYTHONPATH:+:$PYTHONPATH}"
  if [[ -d /tmp/v2p_site ]] && PYTHONPATH="$site_path" python3 -c "$need_py" 2>/dev/null; then
    echo "using the packages already unpacked in /tmp/v2p_site"
  else
    stage install 120 bash -c "$(declare -f install_site); install_site"
  fi
  export PYTHONPATH="$site_path"
fi
python3 -c "$need_py" || { echo "packages still missing (see above); stopping"; exit 1; }
if [[ $DEVICE == cuda* ]] && ! python3 -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
  echo "torch has no CUDA device here (a CUDA build of torch and the NVIDIA driver are needed); stopping"; exit 1
fi
# the v2p command: installed, else this checkout's package (python -m v2p), else an editable install
if command -v v2p >/dev/null && v2p --help >/dev/null 2>&1; then V2P=(v2p)
elif python3 -m v2p --help >/dev/null 2>&1; then V2P=(python3 -m v2p)
else
  python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >/dev/null 2>&1
  bindir="$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))')"
  V2P=("$bindir/v2p")
fi
echo "v2p command: ${V2P[*]}"
python3 -m benchmarks.gpu info --out "$WORK/env.json" || FAILED=1

# --- 2. throughput --------------------------------------------------------------------------
# (its limit leaves ~330 s for a full 3-minute training run, evaluation and tests)
# shellcheck disable=SC2086
stage bench "$(clamp $(($(left) - 330)) 60 420)" python3 -m benchmarks.gpu bench --device "$DEVICE" \
  --sizes $SIZES --steps "$STEPS" --rounds "$ROUNDS" --out "$OUT/bench.json"

# --- 3. training ----------------------------------------------------------------------------
# the wall time left after startup (~30 s), evaluation and tests (~120 s) caps --max-time
budget=$(clamp $(($(left) - 150)) 0 "$TRAIN_S")
if ((budget < TRAIN_S)); then echo "training time cut to ${budget}s by the deadline"; fi
rm -rf "$RUN_DIR"
if ((budget <= 0)); then
  skip train "no time left" fail
else
  steps="$(python3 -m benchmarks.gpu plan --bench "$OUT/bench.json" --task "$TRAIN_TASK" --num-envs "$TRAIN_ENVS" \
    --max-time "$budget" --margin "$MARGIN" --fallback-rate "$FALLBACK_RATE" --out "$WORK/plan.json" | tail -1)"
  echo "training: --max-time ${budget} ends it; --steps $steps is an upper bound ($(tr -s '\n ' ' ' <"$WORK/plan.json"))"
  # the limit only guards against a hang: startup, the epoch that crosses --max-time, saving
  stage train $((budget + 90)) "${V2P[@]}" train "$TRAIN_TASK" --trainer rl_games --num-envs "$TRAIN_ENVS" \
    --device "$DEVICE" --backend warp --max-time "$budget" --steps "$steps" "${TRAIN_EPISODE[@]}" \
    --run-dir "$RUN_DIR" --no-progress
fi

# --- 4. evaluation --------------------------------------------------------------------------
for kind in best last; do
  ckpt="$RUN_DIR/checkpoints/$kind.pth"
  if [[ ! -f $ckpt ]]; then  # rl-games keeps a best checkpoint only after 50 epochs
    skip "eval_$kind" "no $ckpt" "$([[ $kind == last ]] && echo fail)"
    continue
  fi
  # shellcheck disable=SC2086
  stage "eval_$kind" "$(clamp $(($(left) / 2)) 30 120)" "${V2P[@]}" eval --checkpoint "$ckpt" \
    --episodes "$EPISODES" --seeds $SEEDS --device "$DEVICE" --backend warp --out "$OUT/eval_$kind.json" --no-progress
done

# --- 5. tests -------------------------------------------------------------------------------
limit=$(clamp $(($(left) - 10)) 30 300)
stage tests "$limit" python3 -m pytest -m gpu tests/warp -q -rs -p no:cacheprovider \
  --junitxml="$WORK/pytest_gpu.xml"

# --- 6. summary -----------------------------------------------------------------------------
python3 -m benchmarks.gpu summary "$OUT" --mode "$MODE" >/dev/null || FAILED=1
echo "=== [${SECONDS}s] done: $OUT/summary.md"
cat "$OUT/summary.md"
exit "$FAILED"
