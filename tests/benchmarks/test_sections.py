"""Named BENCHMARKS.md sections: replaced in place, appended when new, kept by name."""

from __future__ import annotations

import pytest

from hopscreen.benchmarks.sections import sections, update_section


def test_sections_are_appended_then_replaced_in_place(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nbench text\n")
    update_section(path, "reproduce", "## Reproduce\n\nfirst")
    update_section(path, "replay", "## Replay\n\nA")
    update_section(path, "reproduce", "## Reproduce\n\nsecond")
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nbench text\n")
    assert "first" not in text and text.count("second") == 1
    assert text.index("second") < text.index("## Replay")
    assert list(sections(path)) == ["reproduce", "replay"]


def test_missing_file_is_created_and_bad_names_rejected(tmp_path):
    path = tmp_path / "B.md"
    update_section(path, "x1", "hello")
    assert "hello" in sections(path)["x1"]
    with pytest.raises(ValueError, match="lower-case"):
        update_section(path, "Bad Name", "x")
    assert sections(tmp_path / "absent.md") == {}
