"""The Docker image installs what the app needs at run time.

Docker is not available to the test suite, so this reads the Dockerfile.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile"


def _final_stage_runs() -> list[str]:
    """The RUN instructions of the last stage, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return [line[4:] for line in lines[last_from:] if line.startswith("RUN ")]


def _apt_installs() -> set[str]:
    packages: set[str] = set()
    for run in _final_stage_runs():
        for command in re.split(r"&&|;", run):
            words = shlex.split(command)
            if words[:2] == ["apt-get", "install"]:
                packages |= {word for word in words[2:] if not word.startswith("-")}
    return packages


def test_the_final_image_installs_dejavu_for_pdf_output_beyond_latin1():
    assert "fonts-dejavu-core" in _apt_installs()


def test_the_apt_install_is_non_interactive_lean_and_cleans_up():
    [run] = [run for run in _final_stage_runs() if "apt-get install" in run]
    assert "apt-get update" in run  # in the same layer, so the lists are fresh
    assert "--yes" in run or "-y" in shlex.split(run)
    assert "--no-install-recommends" in run
    assert "rm -rf /var/lib/apt/lists/*" in run
