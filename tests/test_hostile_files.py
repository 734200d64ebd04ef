"""Hostile-input corpus, part 2: files. A bad file given to ``ingest`` is skipped with its
reason while the good ones beside it are stored; a bad file given to ``examples import`` or
``eval`` is one line of error and nothing is stored. See tests/hostile.py."""

from __future__ import annotations

import os

import pytest

from hostile import Case, assert_nothing_lost, assert_one_line_error, run_cli, snapshot
from pdfs import minimal_pdf

DEEP = "[" * 100_000 + "]" * 100_000


# (case id, file name, content as bytes or a callable that makes it at a path, words the skip line shows)
BAD_FILES = [
    ("json-nested-100000-deep", "deep.json", DEEP.encode(), "nested too deeply"),
    ("jsonl-nested-100000-deep", "deep.jsonl", DEEP.encode(), "nested too deeply"),
    ("csv-field-200kb", "wide.csv", b"text\n" + b"a" * 200_000 + b"\n", "field larger"),
    ("csv-without-text-column", "cols.csv", b"a,b\n1,2\n", "no column 'text'"),
    ("pdf-length-1e12", "huge-length.pdf", minimal_pdf("Hello refunds", "1e12"), "empty"),
    ("pdf-length-10-to-the-12", "huger-length.pdf", minimal_pdf("Hello refunds", "999999999999"), "exceeds maximum"),
    ("pdf-length-word", "word-length.pdf", minimal_pdf("Hello refunds", "abc"), "empty"),
    ("pdf-garbage", "garbage.pdf", os.urandom(2048), "PDF"),
    ("pdf-truncated", "truncated.pdf", minimal_pdf("Hello refunds", "62")[:150], "PDF"),
    ("pdf-empty-file", "empty.pdf", b"", "PDF"),
    ("txt-with-nul-bytes", "binary.txt", b"abc\x00def" * 10, "binary"),
    ("txt-latin-1", "latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "UTF-8"),
    ("txt-empty", "empty.txt", b"", "empty"),
    ("md-whitespace-only", "blank.md", b"  \n\t\n ", "empty"),
    ("html-script-only", "script.html", b"<script>alert(1)</script>", "empty"),
    ("json-scalar", "scalar.json", b"42", "object or a list"),
    ("json-list-of-numbers", "numbers.json", b"[1, 2, 3]", "text field"),
    ("json-object-without-text", "notext.json", b'{"title": "x"}', "text field"),
    ("json-invalid", "broken.json", b'{"text": ', "invalid JSON"),
    ("jsonl-broken-line", "broken.jsonl", b'{"text": "a"}\n{oops\n', "invalid JSON"),
    ("unsupported-type", "program.exe", b"MZ\x90\x00", "unsupported type"),
    ("no-extension", "README", b"hello", "unsupported type"),
    ("non-utf8-file-name", b"caf\xe9.txt", b"hello there", "rename"),
    ("missing-file", None, None, "no such file"),
    ("symlink-loop-given-directly", "loop", None, "symlink loop"),
    ("symlink-to-nowhere", "dangling", None, "no such file"),
    ("fifo-given-directly", "pipe.txt", None, "no such file"),
    ("json-integer-5000-digits", "bigint.json", b'[{"text": ' + b"9" * 5000 + b"}]", "invalid JSON"),
    ("jsonl-integer-5000-digits", "bigint.jsonl", b'{"text": "a", "n": ' + b"9" * 5000 + b"}\n", "invalid JSON"),
    ("json-lone-surrogate", "surrogate.json", b'[{"text": "caf\\ud800 menu"}]', "not valid UTF-8"),
]


def _make(folder, case_id, name, content):
    if name is None:
        return folder / "does-not-exist.txt"
    path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())
    if case_id == "symlink-loop-given-directly":
        os.symlink(path, path)
    elif case_id == "symlink-to-nowhere":
        os.symlink(os.path.join(os.fsencode(folder), b"nowhere.txt"), path)
    elif case_id == "fifo-given-directly":
        os.mkfifo(path)
    else:
        with open(path, "wb") as handle:
            handle.write(content)
    return os.fsdecode(path)


@pytest.mark.parametrize("bad", BAD_FILES, ids=lambda b: b[0])
def test_ingest_skips_the_bad_file_and_stores_the_good_ones(bad, hostile_ws, tmp_path):
    case_id, name, content, reason = bad
    good = tmp_path / "good.txt"
    good.write_text("Opening hours are nine to five on weekdays.")
    path = _make(tmp_path, case_id, name, content)
    before = snapshot(hostile_ws)
    result = run_cli(hostile_ws, ["ingest", good, path])
    assert "Traceback" not in result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 1 and reason.lower() in skipped[0].lower(), result.output
    assert os.path.basename(os.fsdecode(path)).split(".")[0][:3] in skipped[0]
    assert result.exit_code == 1
    after = snapshot(hostile_ws)
    assert any(str(good) in row for row in after["documents"]), "the good file was not stored"
    assert set(before["documents"]) <= set(after["documents"]) and set(before["chunks"]) <= set(after["chunks"])


def test_ingest_folder_with_a_link_loop_and_bad_files_stores_the_good_ones(hostile_ws, tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "good.md").write_text("Returns are free within 30 days.")
    (folder / "deep.json").write_text(DEEP)
    os.symlink(folder, folder / "sub" / "loop")  # a folder link back up: must not be walked forever
    result = run_cli(hostile_ws, ["ingest", folder])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "deep.json" in result.output and "1 added" in result.output


def test_ingest_stays_inside_the_folders_it_was_given(hostile_ws, tmp_path):
    """A folder someone else made may hold links to other files of the machine: those are skipped
    with the reason (the files inside are stored), unless --follow-links; a FIFO and a /proc file
    are refused before anything is read."""
    folder, outside = tmp_path / "docs", tmp_path / "private"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("The vault code is 4711.")
    (folder / "good.md").write_text("Returns are free within 30 days.")
    os.symlink(outside / "secret.txt", folder / "sub" / "secret.txt")
    os.symlink(folder / "good.md", folder / "sub" / "same.md")  # inside the folder: kept
    os.symlink("/proc/self/status", folder / "status.txt")
    os.mkfifo(folder / "pipe.txt")
    result = run_cli(hostile_ws, ["ingest", folder])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "2 added" in result.output and "3 skipped" in result.output, result.output
    assert f"a link to {outside / 'secret.txt'}, outside the folder given" in result.output and "--follow-links" in result.output
    assert "pipe.txt: not a regular file" in result.output
    searched = run_cli(hostile_ws, ["search", "vault code", "--json"])
    assert "4711" not in searched.output
    followed = run_cli(hostile_ws, ["ingest", "--follow-links", folder])
    assert "1 added" in followed.output and "secret.txt" not in followed.output.split("skipped", 1)[-1], followed.output
    assert "4711" in run_cli(hostile_ws, ["search", "vault code", "--json"]).output
    assert "status.txt: a system file" in followed.output  # followed, and still refused before reading


FILE_CASES = [
    ("directory", lambda d: d, "use a .jsonl or .csv file"),
    ("directory-named-jsonl", lambda d: (d / "rows.jsonl").mkdir() or d / "rows.jsonl", "rows.jsonl"),
    ("missing", lambda d: d / "none.jsonl", "none.jsonl"),
    ("non-utf8", lambda d: _write(d / "latin.jsonl", '{"text": "caf\xe9", "label": "x"}'.encode("latin-1")), "UTF-8"),
    ("nested-100000-deep", lambda d: _write(d / "deep.jsonl", DEEP.encode()), "nested too deeply"),
    ("not-json", lambda d: _write(d / "bad.jsonl", b"{oops"), "line 1 is not JSON"),
    ("row-is-a-list", lambda d: _write(d / "list.jsonl", b"[1, 2]"), "row 1"),
    ("row-without-label", lambda d: _write(d / "nolabel.jsonl", b'{"text": "hi"}'), "label"),
    ("label-not-text", lambda d: _write(d / "num.jsonl", b'{"text": "hi", "label": 3}'), "label"),
    ("empty-text", lambda d: _write(d / "empty.jsonl", b'{"text": " ", "label": "x"}'), "empty"),
    ("no-rows", lambda d: _write(d / "none.jsonl", b"\n\n"), "no rows"),
    ("csv-field-200kb", lambda d: _write(d / "wide.csv", b"text,label\n" + b"a" * 200_000 + b",x\n"), "CSV"),
    ("csv-missing-column", lambda d: _write(d / "cols.csv", b"a,b\n1,2\n"), "missing column"),
    ("wrong-suffix", lambda d: _write(d / "rows.txt", b"hi"), "use a .jsonl or .csv file"),
    ("fifo", lambda d: os.mkfifo(d / "pipe.bin") or d / "pipe.bin", "use a .jsonl or .csv file"),
    ("fifo-named-jsonl", lambda d: os.mkfifo(d / "pipe.jsonl") or d / "pipe.jsonl", "not a regular file"),
    ("link-to-dev-zero", lambda d: os.symlink("/dev/zero", d / "zero.jsonl") or d / "zero.jsonl", "a system file"),
    ("link-to-proc-file", lambda d: os.symlink("/proc/self/status", d / "status.csv") or d / "status.csv", "a system file"),
    ("sparse-600-mb", lambda d: _sparse(d / "sparse.jsonl", 600 * 2**20), "over 512 MB"),
    ("integer-5000-digits", lambda d: _write(d / "big.jsonl", b'{"text": "hi", "label": ' + b"9" * 5000 + b"}"), "line 1 is not JSON"),
    ("lone-surrogate", lambda d: _write(d / "sur.jsonl", b'{"text": "caf\\ud800", "label": "x"}'), "not valid UTF-8"),
    ("row-of-5-mb", lambda d: _write(d / "huge.jsonl", b'{"text": "' + b"a" * 5_000_000 + b'", "label": "x"}'), "at most 20,000"),
]


def _sparse(path, size: int):
    with open(path, "wb") as f:
        f.truncate(size)  # no disk used: the size alone must refuse it
    return path


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


CASES = [*BAD_FILES, *[(f"import-{c[0]}",) for c in FILE_CASES], *[(f"eval-{c[0]}",) for c in FILE_CASES]]


@pytest.mark.parametrize("command", ["import", "eval"])
@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c[0])
def test_bad_examples_file(command, case, hostile_ws, tmp_path):
    case_id, make, names = case
    folder = tmp_path / "input"
    folder.mkdir()
    path = make(folder)
    before = snapshot(hostile_ws)
    args = ["examples", "import", path, "--task", "intent"] if command == "import" else ["eval", path, "--task", "intent"]
    result = run_cli(hostile_ws, args)
    assert result.exit_code == 1, result.output
    assert_one_line_error(result.output, names)
    assert_nothing_lost(before, snapshot(hostile_ws))


def test_ingest_of_texts_without_separators_stores_them(hostile_ws, tmp_path):
    """300 KB without a space or a newline, lines ended by carriage returns alone, words
    joined by zero-width spaces, 30,000 headings: each is chunked by one tokenizer call per
    block (plugins/retrieval/chunker.py), not one per character, and stored."""
    folder = tmp_path / "long"
    folder.mkdir()
    (folder / "word.txt").write_text("a" * 300_000)
    (folder / "cr.txt").write_text("line\r" * 30_000)
    (folder / "zero-width.txt").write_text("word\u200b" * 60_000)
    (folder / "headings.md").write_text("# h\n" * 30_000)
    result = run_cli(hostile_ws, ["ingest", folder])
    assert result.exit_code == 0 and "4 added" in result.output, result.output
