"""The container image, tested without Docker (not available here): its file set and its start
command. The Dockerfile's COPY lines are replayed into a temporary folder (the image's /app),
then the image's CMD (scripts/container_start.sh) is started there with this environment's
packages on PATH: it must build the demo database and serve the app; and the app must run
from those files alone."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def copy_lines() -> list[tuple[str, str]]:
    pairs = []
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(r"^COPY\s+(\S+)\s+(\S+)\s*$", line)
        if match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory) -> Path:
    """The files the image holds under /app, as the Dockerfile copies them."""
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()
    for src, dst in copy_lines():
        source, target = ROOT / src, app / (dst if dst not in (".", "./") else Path(src).name)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return app


def test_dockerfile_starts_with_the_tested_command_and_pinned_requirements():
    text = DOCKERFILE.read_text()
    assert 'CMD ["scripts/container_start.sh"]' in text
    assert "pip install -r requirements.txt" in text
    assert "USER app" in text  # not root
    assert ("requirements.txt", ".") in copy_lines()


def test_image_files_alone_run_every_page(image_tree):
    """AppTest in a separate interpreter whose only app files are the image's."""
    script = f"""
import sys
sys.path.insert(0, {str(image_tree)!r})
from streamlit.testing.v1 import AppTest
import analytics
from analytics.build import ensure_demo_database
assert analytics.__file__.startswith({str(image_tree)!r}), analytics.__file__  # the image's copy
ensure_demo_database({str(image_tree / 'data' / 'cohort.duckdb')!r})
for page in ["overview", "patient", "genomics", "withdrawal", "response", "survival", "dictionary", "share", "upload"]:
    at = AppTest.from_file({str(image_tree / 'streamlit_app.py')!r}, default_timeout=120)
    at.run()
    at.switch_page("pages/" + page + ".py").run()
    assert not at.exception, (page, at.exception)
    print(page, "ok")
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=image_tree, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(" ok") == 9


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_command_builds_the_database_and_serves(image_tree):
    port = _free_port()
    env = dict(os.environ, PORT=str(port), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("BALL_COHORT_DB", None)
    db = image_tree / "data" / "cohort.duckdb"
    db.unlink(missing_ok=True)
    server = subprocess.Popen([str(image_tree / "scripts" / "container_start.sh")], cwd=image_tree, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.monotonic() + 120, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    health = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert health == "ok", server.stdout.read() if server.poll() is not None else "no health answer"
        assert db.exists()  # built at start-up, like on Streamlit Community Cloud
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/survival", timeout=10) as r:
            assert r.status == 200 and b"<div id=\"root\">" in r.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
