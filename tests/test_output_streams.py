"""Standard output that cannot be written, and -o targets that are streams (FIFOs, /dev/stdout)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SUB = "11111111-2222-3333-4444-555555555555"
RENDER = [sys.executable, "-m", "rbactool", "render", "online-endpoint-scoring", "-s", SUB]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_stdout_is_one_error_line_exit_3():
    with open("/dev/full", "w") as full:
        r = subprocess.run(RENDER, stdout=full, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 3
    assert r.stderr.strip().splitlines() == ["Error: cannot write output: No space left on device"]


def test_a_closed_pipe_ends_quietly_with_141():
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first write gets EPIPE
    try:
        r = subprocess.run([sys.executable, "-m", "rbactool", "templates"], stdout=write,
                           stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert r.returncode == 141 and r.stderr == ""


def test_a_pipe_closed_mid_output_ends_with_141_not_a_silently_cut_output():
    # `rbactool explain Owner | head -1`: the reader goes away after the first bytes of a 1.7 MB
    # output. Python's stdout would accept the short write and exit 0 with the output cut short.
    read, write = os.pipe()
    p = subprocess.Popen([sys.executable, "-m", "rbactool", "explain", "Owner"], stdout=write,
                         stderr=subprocess.PIPE)
    os.close(write)
    first = os.read(read, 100)
    os.close(read)
    _, err = p.communicate(timeout=60)
    assert first.startswith(b"Owner")
    assert p.returncode == 141 and err == b""


def test_output_to_a_fifo_writes_into_it_and_keeps_it_a_fifo(tmp_path):
    fifo = tmp_path / "role.fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    r = subprocess.run([*RENDER, "-o", str(fifo)], capture_output=True, text=True, timeout=60)
    reader.join(timeout=60)
    assert r.returncode == 0, r.stderr
    assert fifo.is_fifo() and '"Name": "Custom role for scoring - online endpoint"' in got[0]


def test_output_to_dev_stdout():
    r = subprocess.run([*RENDER, "-o", "/dev/stdout"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"IsCustom": true' in r.stdout


def test_an_unknown_parameter_type_names_the_template_and_the_types(run, tmp_path):
    (tmp_path / "broken.json.j2").write_text(
        "{#---\nsummary: s\nparameters:\n  x: {type: nope}\n---#}\n{\"Name\": {{ name | tojson }}}\n")
    r = run("templates", "--templates", tmp_path, "--format", "json")
    assert r.exit_code == 3
    broken = next(t for t in r.json()["templates"] if t["name"] == "broken")
    assert "unknown type 'nope'" in broken["error"] and "broken.json.j2" in broken["error"]
    assert "string, bool" in broken["error"] and "[]" not in broken["error"]


def test_a_pipe_closed_on_an_output_file_that_is_standard_output_ends_with_141(tmp_path):
    # `rbactool report ... -o /dev/stdout | head -c 10`: -o names a stream, and the reader goes away
    import rbactool

    db = tmp_path / "estate.db"
    rbactool.write_snapshot(rbactool.load_seed(Path(__file__).parent / "data" / "estates" / "known-answers.yaml"), db)
    read, write = os.pipe()
    p = subprocess.Popen([sys.executable, "-m", "rbactool", "report", "--snapshot", str(db), "-o", "/dev/stdout"],
                         stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    os.read(read, 10)
    os.close(read)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 141 and b"Error" not in err
