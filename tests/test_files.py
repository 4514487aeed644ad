"""Files rbactool writes keep the modes a user expects (umask for new files, the old mode for
rewritten ones) and a symlink is written through to its target."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from conftest import DATA

SEED = DATA / "seeds" / "custom-role-for-scoring.json"
posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and symlinks")


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def leftovers(d) -> list[str]:
    return [p.name for p in d.iterdir() if p.name.endswith(".tmp")]


@posix
def test_a_new_file_gets_the_umask_mode(run, tmp_path, umask022):
    out = tmp_path / "r.json"
    assert run("render", "online-endpoint-scoring", "-s", "11111111-2222-3333-4444-555555555555",
               "-g", "rg", "-o", out).exit_code == 0
    assert mode(out) == 0o644
    os.umask(0o077)
    out2 = tmp_path / "r2.json"
    assert run("convert", SEED, "-o", out2).exit_code == 0
    assert mode(out2) == 0o600


@posix
@pytest.mark.parametrize("file_mode", [0o640, 0o664, 0o600], ids=oct)
def test_in_place_keeps_an_existing_files_mode(run, tmp_path, umask022, file_mode):
    f = tmp_path / "r.json"
    f.write_text(SEED.read_text())  # 4-space indent: --in-place rewrites it
    f.chmod(file_mode)
    before = f.read_text()
    assert run("convert", "--in-place", f).exit_code == 0
    assert f.read_text() != before and mode(f) == file_mode
    assert leftovers(tmp_path) == []


@posix
def test_output_over_an_existing_file_keeps_its_mode(run, tmp_path, umask022):
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o640)
    assert run("convert", SEED, "-o", out).exit_code == 0
    assert out.read_text().startswith("{") and mode(out) == 0o640


@posix
def test_in_place_writes_through_a_symlink(run, tmp_path, umask022):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "role.json"
    target.write_text(SEED.read_text())
    target.chmod(0o640)
    links = tmp_path / "links"
    links.mkdir()
    link = links / "role.json"
    link.symlink_to(os.path.relpath(target, links))
    assert run("convert", "--in-place", link).exit_code == 0
    assert link.is_symlink() and str(link.readlink()) == os.path.relpath(target, links)
    assert run("convert", "--check", target).exit_code == 0  # the target got the canonical text
    assert mode(target) == 0o640
    assert leftovers(links) == [] and leftovers(real_dir) == []  # the temp file went beside the target


@posix
def test_output_to_a_symlink_chain_writes_the_final_target(run, tmp_path):
    target = tmp_path / "final.json"
    target.write_text("old")
    (tmp_path / "mid.json").symlink_to(target)
    (tmp_path / "out.json").symlink_to(tmp_path / "mid.json")
    assert run("convert", SEED, "-o", tmp_path / "out.json").exit_code == 0
    assert (tmp_path / "out.json").is_symlink() and (tmp_path / "mid.json").is_symlink()
    assert target.read_text().startswith("{")


@posix
def test_a_dangling_symlink_is_refused(run, tmp_path):
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "elsewhere" / "missing.json")
    r = run("convert", SEED, "-o", link)
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ") and "symlink" in r.stderr and len(r.stderr.splitlines()) == 1
    assert link.is_symlink() and not (tmp_path / "elsewhere").exists()


@posix
def test_render_output_dir_is_all_or_nothing_and_keeps_modes(tmp_path, umask022):
    from rbactool.errors import OutputError
    from rbactool.files import write_files

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("old a")
    a.chmod(0o640)
    write_files({a: "new a", b: "new b"})
    assert (a.read_text(), mode(a), b.read_text(), mode(b)) == ("new a", 0o640, "new b", 0o644)
    with pytest.raises(OutputError):
        write_files({a: "newer a", tmp_path / "missing" / "c.json": "c"})
    assert a.read_text() == "new a" and leftovers(tmp_path) == []
