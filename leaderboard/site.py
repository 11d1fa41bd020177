"""The leaderboard's static site, built from records: ``v2p leaderboard build RECORDS --out SITE``.

``index.html`` is the board: one row per method, the 12 Table-1 tasks as columns (mean +- std
of ground-truth success over the evaluation seeds), the average over the 12 (a task without a
record counts 0) and the rank; privileged entries (reading the simulator's state) are marked,
and the paper's Table 1 rows are shown apart as "reported by the paper". Each task has a page
(description, objects, a bar chart, the best entry's rollout video when the records folder has
one) and each submission a page (its description, per-task results, failures, file hashes).
Plain HTML and PNGs, no scripts: it opens from the file system.
"""
from __future__ import annotations

import html
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from baselines.paper_figures import PAPER_METHOD_NAMES, PAPER_TABLE1

from .records import read_records, slug
from .submission import TABLE1_IDS

__all__ = ["build_site"]

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;white-space:nowrap}th{background:#f0f0f0}td.name{text-align:left}
tr.paper td{color:#777;font-style:italic}.privileged{color:#a05000}.refused,.unisolated{color:#b00}img{max-width:640px}"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>\n")


def _short(task: str) -> str:
    return task.removeprefix("V2P-").removesuffix("-v0")


def _isolated(record: dict[str, Any]) -> str:
    """The record's ``isolated`` as the site shows it: true, false (run without the sandbox, by the
    operator's choice), or a dash where no submitted code ran (a refusal, a shipped oracle)."""
    value = record.get("isolated")
    return "&mdash;" if value is None else ("true" if value else "<span class='unisolated'>false</span>")


def _bar_chart(task: str, rows: list[tuple[str, float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * max(len(rows), 1)))
    names = [r[0] for r in rows]
    ax.barh(names, [r[1] for r in rows], xerr=[r[2] for r in rows], color="#4a7ab0")
    ax.set(xlim=(0, 1.05), xlabel="ground-truth success", title=_short(task))
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def build_site(records_dir: Path | str, out_dir: Path | str) -> Path:
    """Write the site (see the module doc) and return its index.html."""
    import v2p_envs
    from v2p_envs.scene_spec import load_scene_spec

    records_dir, out_dir = Path(records_dir), Path(out_dir)
    (out_dir / "assets").mkdir(parents=True, exist_ok=True)
    records = [r for r in read_records(records_dir) if r.get("task") in TABLE1_IDS]
    entries: dict[str, dict[str, Any]] = defaultdict(dict)
    meta: dict[str, dict[str, Any]] = {}
    for r in records:
        method = r["submission"].get("method", "submission")
        entries[method][r["task"]] = r
        meta[method] = r["submission"]
    ranked = sorted(entries, key=lambda m: -np.mean([entries[m][t]["mean"] if t in entries[m] and
                                                     entries[m][t]["status"] == "evaluated" else 0.0
                                                     for t in TABLE1_IDS]))
    head = "<tr><th>rank</th><th>method</th>" + "".join(
        f"<th><a href='task_{_short(t)}.html'>{_short(t)}</a></th>" for t in TABLE1_IDS) + "<th>average</th></tr>"
    rows = []
    for rank, method in enumerate(ranked, start=1):
        cells, values = [], []
        for task in TABLE1_IDS:
            r = entries[method].get(task)
            if r is None:
                cells.append("<td>&mdash;</td>")
                values.append(0.0)
            elif r["status"] != "evaluated":
                cells.append("<td class='refused'>refused</td>")
                values.append(0.0)
            else:
                cells.append(f"<td>{r['mean']:.2f} &plusmn; {r['std']:.2f}</td>")
                values.append(r["mean"])
        label = html.escape(method) + (" <span class='privileged'>(privileged)</span>"
                                       if meta[method].get("privileged") else "")
        if any(r.get("isolated") is False for r in entries[method].values()):
            label += " <span class='unisolated'>(isolated: false)</span>"
        rows.append(f"<tr class='entry'><td>{rank}</td><td class='name'><a href='submission_{slug(method)}.html'>"
                    f"{label}</a></td>{''.join(cells)}<td><b>{np.mean(values):.2f}</b></td></tr>")
    paper_rows = []
    for key, name in PAPER_METHOD_NAMES.items():
        values = [PAPER_TABLE1[_short(t)][key][0] for t in TABLE1_IDS]
        paper_rows.append(f"<tr class='paper'><td></td><td class='name'>{name} (reported by the paper)</td>" + "".join(
            f"<td>{PAPER_TABLE1[_short(t)][key][0]:.2f} &plusmn; {PAPER_TABLE1[_short(t)][key][1]:.2f}</td>"
            for t in TABLE1_IDS) + f"<td>{np.mean(values):.2f}</td></tr>")
    board = (f"<h1>video2policy leaderboard</h1><p>Ground-truth success on the paper's 12 Table-1 tasks, mean "
             f"&plusmn; std over the evaluation seeds (10 episodes each), run by the evaluator with each policy in "
             f"an OS sandbox (an entry run without it says isolated: false); a task without a record counts 0 in "
             f"the average. {len(records)} records.</p>"
             f"<table id='board'>{head}{''.join(rows)}</table><h2>Reported by the paper (GPT-4o, Isaac Gym, its "
             f"budget)</h2><table id='paper'>{head}{''.join(paper_rows)}</table>")
    index = out_dir / "index.html"
    index.write_text(_page("video2policy leaderboard", board))
    for task in TABLE1_IDS:
        scene = load_scene_spec(Path(v2p_envs.resolve_task(task).kwargs["task_dir"]) / "scene.json", check_files=False)
        cells = sorted(((m, entries[m][task]["mean"], entries[m][task]["std"]) for m in entries
                        if task in entries[m] and entries[m][task]["status"] == "evaluated"), key=lambda c: -c[1])
        chart = out_dir / "assets" / f"bars_{_short(task)}.png"
        _bar_chart(task, cells, chart)
        video_html = ""
        if cells:
            best = cells[0][0]
            video = records_dir / "videos" / slug(best) / f"{task}.mp4"
            if video.is_file():
                shutil.copyfile(video, out_dir / "assets" / f"best_{_short(task)}.mp4")
                video_html = (f"<h2>Best entry: {html.escape(best)}</h2><video controls width='480' "
                              f"src='assets/best_{_short(task)}.mp4'></video>")
        body = (f"<p><a href='index.html'>board</a></p><h1>{html.escape(scene.task_title)}</h1>"
                f"<p>{html.escape(scene.description)}</p><p>Objects: {', '.join(o.name for o in scene.objects)}</p>"
                f"<img alt='success by method' src='assets/{chart.name}'>{video_html}")
        (out_dir / f"task_{_short(task)}.html").write_text(_page(_short(task), body))
    for method in entries:
        m = meta[method]
        results = "".join(
            f"<tr><td class='name'>{_short(t)}</td><td>{r['status']}</td><td>{r['mean']:.2f} &plusmn; {r['std']:.2f}</td>"
            f"<td>{'yes' if r['verified'] else 'self-reported'}</td><td>{_isolated(r)}</td><td class='name'>"
            f"{html.escape('; '.join(r['failures'][:3]))}</td></tr>" for t, r in sorted(entries[method].items()))
        hashes = "".join(f"<li><code>{html.escape(f)}</code> {h[:16]}</li>" for f, h in m.get("file_sha256", {}).items())
        body = (f"<p><a href='index.html'>board</a></p><h1>{html.escape(method)}</h1>"
                f"<p>{html.escape(m.get('description', ''))}</p><p>Authors: {html.escape(', '.join(m.get('authors', [])))}"
                f"{' · privileged (reads the simulator state)' if m.get('privileged') else ''}</p>"
                f"<table><tr><th>task</th><th>status</th><th>success</th><th>verified</th><th>isolated</th>"
                f"<th>failures</th></tr>"
                f"{results}</table><h2>Files</h2><ul>{hashes}</ul>")
        (out_dir / f"submission_{slug(method)}.html").write_text(_page(method, body))
    return index
