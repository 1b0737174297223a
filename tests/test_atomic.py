"""workbench.atomic: the whole file or the old one, and the permissions any new file would get."""

import os

import pytest

from workbench.atomic import atomic_path, write_json, write_text


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "report.md", "x")
        write_json(tmp_path / "config.json", {"a": 1})
    finally:
        os.umask(old)
    for name in ("report.md", "config.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


def test_an_error_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
