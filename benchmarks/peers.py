"""Ours against the peers in one run (issue 11): FetchPush (gymnasium-robotics), Meta-World push
and robosuite Lift, each in its own venv, since they pin other MuJoCo and NumPy versions.

    python -m benchmarks.peers --setup                 # make the venvs (needs the package index)
    python -m benchmarks.peers --rounds 3 --update-results

Every figure is one process of ``benchmarks/peer_worker.py`` in that simulator's venv; rounds
interleave the simulators so a busy machine slows them alike, and the table gives medians.
Measured: start-up (a whole process: interpreter, import, make, reset), single-env steps/s with
random actions, simulated seconds per wall second (steps/s x control period: the rates differ,
25 Hz FetchPush, 80 Hz Meta-World, 20 Hz robosuite, 50 Hz ours), 256 x 256 frames per second
(step + frame, each at its defaults) and batched throughput (ours natively at N = 256, a peer
under Gymnasium's AsyncVectorEnv with one env per worker).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .results_md import RESULTS_MD, add_section_arguments, run_stamp, write_section

__all__ = ["Peer", "PEERS", "main"]

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("peer_worker.py")
MEASURES = ("startup", "single", "render", "batched")


@dataclass(frozen=True)
class Peer:
    name: str
    label: str
    requirements: tuple[str, ...]  # pinned: the versions the figures were measured with

    def python(self, venvs: Path) -> Path:
        """The interpreter that runs this simulator (ours: this one)."""
        return Path(sys.executable) if self.name == "ours" else venvs / self.name / "bin" / "python"


PEERS = (
    Peer("ours", "ours, V2P-PushLeft-v0 (MuJoCo 4, torch)", ()),
    Peer("fetch", "FetchPush-v4 (gymnasium-robotics)", ("gymnasium-robotics==1.4.2", "mujoco==3.3.0")),
    Peer("metaworld", "Meta-World push-v3", ("metaworld==3.1.1", "mujoco==3.3.0", "packaging")),
    Peer("robosuite", "robosuite Lift, Panda OSC", ("robosuite==1.5.2", "mujoco==3.3.0", "h5py", "gymnasium")),
)


def setup(venvs: Path, peers: list[Peer]) -> None:
    """One venv per peer, its pinned requirements installed in one pip call (a later MuJoCo
    downgrade in the same venv leaves the newer one's plugin libraries behind)."""
    for peer in peers:
        if not peer.requirements:
            continue
        target = venvs / peer.name
        if not target.exists():
            venv.create(target, with_pip=True)
        log.info("installing %s into %s", " ".join(peer.requirements), target)
        subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "-q", *peer.requirements],
                       check=True)


def measure(peer: Peer, what: str, venvs: Path, seconds: float, timeout: float) -> dict:
    """One worker process; its failure (missing venv, crash, timeout) is a row, not an exception."""
    python = peer.python(venvs)
    if not python.exists():
        return {"peer": peer.name, "measure": what, "error": f"no venv at {python.parent.parent} "
                "(python -m benchmarks.peers --setup)"}
    env = dict(os.environ)
    env.setdefault("MUJOCO_GL", "egl")
    if peer.name == "ours":  # the worker runs as a script: let it import this checkout
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
    cmd = [str(python), str(WORKER), "--peer", peer.name, "--measure", what, "--seconds", str(seconds)]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"peer": peer.name, "measure": what, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"peer": peer.name, "measure": what, "error": f"exit {done.returncode}: {tail[:200]}"}
    row = json.loads(lines[-1])
    if what == "startup":
        row["startup_s"] = wall
    return row


def medians(rows: list[dict]) -> dict[tuple[str, str], dict]:
    """Per (peer, measure): the median of each figure over rounds, or the first error."""
    out: dict[tuple[str, str], dict] = {}
    keys = {(r["peer"], r["measure"]) for r in rows}
    for key in keys:
        group = [r for r in rows if (r["peer"], r["measure"]) == key]
        good = [r for r in group if "error" not in r]
        if not good:
            out[key] = {"error": group[0]["error"]}
            continue
        figures = {k for r in good for k, v in r.items() if isinstance(v, (int, float))}
        out[key] = {k: statistics.median(r[k] for r in good if k in r) for k in figures}
        out[key]["how"] = good[0].get("how", "")
        out[key]["rounds"] = len(good)
    return out


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def markdown(table: dict[tuple[str, str], dict], peers: list[Peer], stamp: str, section: str) -> str:
    def get(peer: str, what: str, key: str) -> float | None:
        return table.get((peer, what), {}).get(key)

    lines = [f"<!-- {section}:begin -->", "### Peers side by side: medians over interleaved rounds", "",
             stamp, "",
             "| simulator | control period | single env steps/s | single env sim s / wall s | "
             "batched steps/s | batched sim s / wall s | batched as | 256 x 256 step + frame fps | "
             "start-up s (process) |", "|---|---|---|---|---|---|---|---|---|"]
    for peer in peers:
        errors = {w: table[(peer.name, w)]["error"] for w in MEASURES
                  if "error" in table.get((peer.name, w), {})}
        period = get(peer.name, "single", "control_period_s")
        lines.append(
            f"| {peer.label} | {_fmt(period * 1000 if period else None)} ms | "
            f"{_fmt(get(peer.name, 'single', 'steps_per_s'))} | {_fmt(get(peer.name, 'single', 'sim_s_per_s'), 1)} | "
            f"{_fmt(get(peer.name, 'batched', 'steps_per_s'))} | {_fmt(get(peer.name, 'batched', 'sim_s_per_s'), 1)} | "
            f"{table.get((peer.name, 'batched'), {}).get('how', '-')} | {_fmt(get(peer.name, 'render', 'fps'), 1)} | "
            f"{_fmt(get(peer.name, 'startup', 'startup_s'), 2)} |")
        for what, error in errors.items():
            lines.append(f"| ↳ {peer.name} {what} failed: {error.replace('|', '/')} | | | | | | | | |")
    lines += ["", *targets(get, [p.name for p in peers if p.name != "ours"]), f"<!-- {section}:end -->"]
    return "\n".join(lines)


def targets(get, peer_names: list[str]) -> list[str]:
    """Issue 11's targets, each as met or missed by how much."""
    out = []

    def line(name: str, ours: float | None, goal: float | None, higher: bool = True) -> None:
        if ours is None or goal is None:
            out.append(f"- {name}: not measured")
            return
        met = ours >= goal if higher else ours <= goal
        out.append(f"- {name}: ours {ours:,.2f} vs {goal:,.2f}: **{'met' if met else 'missed'}** "
                   f"({ours / goal:.2f}x the target)")

    line("single env sim s / wall s >= FetchPush's", get("ours", "single", "sim_s_per_s"),
         get("fetch", "single", "sim_s_per_s"))
    best = [v for v in (get(p, "batched", "sim_s_per_s") for p in peer_names) if v is not None]
    line("batched sim s / wall s >= 12x the best peer's", get("ours", "batched", "sim_s_per_s"),
         12 * max(best) if best else None)
    line("256 x 256 fps >= FetchPush's", get("ours", "render", "fps"), get("fetch", "render", "fps"))
    line("start-up (process) <= 1 s", get("ours", "startup", "startup_s"), 1.0, higher=False)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Ours against FetchPush, Meta-World and robosuite, side by side.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--venvs", type=Path, default=Path("runs/peers"), help="one venv per peer under here")
    p.add_argument("--peers", nargs="+", default=[peer.name for peer in PEERS],
                   choices=[peer.name for peer in PEERS])
    p.add_argument("--measures", nargs="+", default=list(MEASURES), choices=MEASURES)
    p.add_argument("--setup", action="store_true", help="create the peers' venvs and exit")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0, help="timed stepping per measurement")
    p.add_argument("--timeout", type=float, default=300.0, help="per worker process")
    p.add_argument("--out", type=Path, default=Path("runs/peers/results"))
    add_section_arguments(p, "peers:cpu")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    peers = [peer for peer in PEERS if peer.name in args.peers]
    if args.setup:
        setup(args.venvs, peers)
        return 0
    if args.rounds < 1 or args.seconds <= 0:
        p.error("--rounds must be >= 1 and --seconds > 0")
    start = time.perf_counter()
    jobs = [(peer, what) for _ in range(args.rounds) for what in args.measures for peer in peers]
    rows = [measure(peer, what, args.venvs, args.seconds, args.timeout)
            for peer, what in tqdm(jobs, desc="peers", disable=args.no_progress)]
    stamp = run_stamp("benchmarks.peers", argv, (time.perf_counter() - start) / 60)
    text = markdown(medians(rows), peers, stamp, args.section)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "peers.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "peers.md").write_text(text + "\n")
    if args.update_results:
        write_section(text, args.section, RESULTS_MD)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
