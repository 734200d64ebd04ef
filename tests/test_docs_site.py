"""The documentation site builds offline with warnings as errors (broken links and anchors
included, mkdocs.yml), every page of docs/ is in its navigation, and the README stays a short
front page that points into it."""

import os
import subprocess
import sys
from pathlib import Path

import re

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "figures" / "index.html").is_file()


def test_every_page_is_in_the_navigation():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = {next(iter(entry.values())) for entry in config["nav"]}
    assert listed == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_the_readme_is_a_short_front_page_linking_to_pages_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 300
    assert readme.splitlines()[4:7] == ["```bash", "make demo   # creates .venv, installs, runs the whole loop on the bundled models",
                                        "make test   # same set-up, then the test suite"]
    linked = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert linked and [p for p in linked if not (ROOT / p).exists()] == []
