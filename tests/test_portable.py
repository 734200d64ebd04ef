import io
import os
import tarfile

from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app


def run(*args):
    return CliRunner().invoke(build_app(), [str(a) for a in args])


def test_an_exported_workspace_imported_elsewhere_serves_the_same_answers(tiny_workspace, tmp_path):
    (tmp_path / "faq.txt").write_text("Unworn items can be returned within 45 days of delivery.\n")
    with Agent.open(tiny_workspace) as agent:
        agent.ingest([tmp_path / "faq.txt"])
        asked = agent.ask("How long do I have to return an item?")
        agent.feedback(asked.id, rating=-1, correction="Within 45 days.")
    archive = tmp_path / "ws.tar.gz"
    exported = run("-w", tiny_workspace, "export", archive)
    assert exported.exit_code == 0 and archive.exists(), exported.output
    with tarfile.open(archive) as tar:
        assert all(not name.startswith("/") and str(tiny_workspace) not in name for name in tar.getnames())

    elsewhere = tmp_path / "elsewhere"
    imported = run("-w", elsewhere, "import", archive)
    assert imported.exit_code == 0, imported.output
    with Agent.open(tiny_workspace) as original, Agent.open(elsewhere) as copy:
        assert copy.interaction(asked.id)["input"] == "How long do I have to return an item?"
        assert copy.feedback_of(asked.id)[0]["correction"] == "Within 45 days."
        assert [d["path"] for d in copy.retriever.documents()] == [d["path"] for d in original.retriever.documents()]
        question = "When can unworn items be returned?"
        assert copy.ask(question).answer == original.ask(question).answer


def test_bad_archives_and_targets_are_refused_and_nothing_is_overwritten(tiny_workspace, tmp_path):
    with Agent.open(tiny_workspace) as agent:
        agent._log.log_interaction(task="chat", input="hi", output="hello")
    wrong_suffix = run("-w", tiny_workspace, "export", tmp_path / "ws.zip")
    assert wrong_suffix.exit_code == 1 and "FILE.tar.gz" in wrong_suffix.output
    missing = run("-w", tmp_path / "new", "import", tmp_path / "nosuch.tar.gz")
    assert missing.exit_code == 1 and "no such file" in missing.output

    archive = tmp_path / "ws.tar.gz"
    assert run("-w", tiny_workspace, "export", archive).exit_code == 0
    onto_data = run("-w", tiny_workspace, "import", archive)
    assert onto_data.exit_code == 1 and "already holds a database" in onto_data.output

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        for name in ("lifelong.toml", "lifelong.db", "../escaped.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    refused = run("-w", tmp_path / "target", "import", evil)
    assert refused.exit_code == 1 and "unexpected member '../escaped.txt'" in refused.output
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "target" / "lifelong.db").exists()
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not gzip at all")
    unreadable = run("-w", tmp_path / "target", "import", garbage)
    assert unreadable.exit_code == 1 and "not a readable" in unreadable.output


def test_an_imported_archive_never_runs_code_it_ships(tiny_workspace, tmp_path, monkeypatch):
    """An archive whose lifelong.toml names a plugin file it ships (or a module beside it): the
    import leaves the file out and says so, and no later command in that workspace runs it."""
    with Agent.open(tiny_workspace) as agent:
        agent._log.log_interaction(task="chat", input="hi", output="hello")
    exported = tmp_path / "ws.tar.gz"
    assert run("-w", tiny_workspace, "export", exported).exit_code == 0
    marker = tmp_path / "ran"
    plugin = f"open({str(marker)!r}, 'w').write('ran')\n".encode()
    archive = tmp_path / "crafted.tar.gz"  # as someone else would make it
    with tarfile.open(exported) as source, tarfile.open(archive, "w:gz") as tar:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == "lifelong.toml":
                data = data.replace(b'modules = ["fakes"]', b'modules = ["fakes", "adapters/evil.py"]')
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
        for name in ("adapters/evil.py", "adapters/__init__.py"):
            info = tarfile.TarInfo(name)
            info.size = len(plugin)
            tar.addfile(info, io.BytesIO(plugin))

    elsewhere = tmp_path / "elsewhere"
    imported = run("-w", elsewhere, "import", archive)
    assert imported.exit_code == 0, imported.output
    assert "left out the plugin file(s) its lifelong.toml named: adapters/evil.py" in imported.output
    assert run("-w", elsewhere, "logs").exit_code == 0
    monkeypatch.chdir(elsewhere)  # where Python looks first for a module under -c and -m
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", os.environ["LIFELONG_LOAD_PLUGINS"] + ",adapters")
    config = (elsewhere / "lifelong.toml").read_text()
    (elsewhere / "lifelong.toml").write_text(config.replace('"fakes"', '"fakes", "adapters"'))
    listed = run("-w", elsewhere, "logs")
    assert listed.exit_code == 1 and "'adapters'" in listed.output  # a module the config names must be installed
    assert not marker.exists()
