"""The documentation lives in the repository: README links the architecture document, and no
file points to a place outside the repository."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_links_the_architecture_document():
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert "## Trust model" in text and "## The task contract" in text


def test_nothing_points_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = []
    for name in files:
        if not name.endswith((".py", ".md", ".txt", ".yaml", ".sh", ".json")) or name.startswith("tests/test_docs"):
            continue
        text = (ROOT / name).read_text(errors="replace")
        if "../shared" in text or "DESIGN.md" in text or "FINDINGS.md" in text:
            outside.append(name)
    assert outside == []
