"""Hostile-input corpus, part 1: configuration, environment and command-line arguments. Each
case must end in a one-line error naming the input (or correct behaviour), with nothing stored
changed. See tests/hostile.py."""

from __future__ import annotations

import socket
import sqlite3
import tomllib

import pytest
import tomli_w

from hostile import Case, assert_nothing_lost, assert_one_line_error, run_cli, snapshot
from lifelong import Agent
from lifelong.core.config import describe
from lifelong.core.plugins import PluginHost

BIG = [2**63, 2**64, 2**70, 10**30]


def _config_cases() -> list[Case]:
    """Every setting of lifelong.toml, the built-in plugins' options included, with a value of
    the wrong type, and every number with a value out of range or not finite."""
    cases = []
    settings = [*describe(), *(row for plugin, options in PluginHost().options.items()
                               for row in describe(type(options), f"plugins.{plugin}.", options))]
    for key, default, _ in settings:
        if key in ("plugins.modules", "tasks"):
            continue
        section, name = key.rsplit(".", 1)
        wrong = 5 if isinstance(default, str) else '"high"'
        cases.append(Case(f"toml-type-{key}", [f"[{section}]\n{name} = {wrong}"], 1, key))
        if isinstance(default, float):
            for literal in ("inf", "-inf", "nan"):
                cases.append(Case(f"toml-{literal}-{key}", [f"[{section}]\n{name} = {literal}"], 1, key))
        if isinstance(default, (int, float)) and not isinstance(default, bool) and key not in ("learning.seed",):
            cases.append(Case(f"toml-negative-{key}", [f"[{section}]\n{name} = -1"], 1, key))
    cases += [
        Case("toml-unknown-section", ["[modles]\ngenerator = 'x'"], 1, "modles"),
        Case("toml-unknown-key", ["[learning]\nepoch = 3"], 1, "learning.epoch"),
        Case("toml-section-not-table", ["learning = 3"], 1, "learning"),
        Case("toml-syntax", ["[learning\nepochs = 3"], 1, "not valid TOML"),
        Case("toml-integer-5000-digits", ["[learning]\nseed = " + "9" * 5000], 1, "not valid TOML"),
        Case("toml-plugins-not-strings", ["[plugins]\nmodules = [1]"], 1, "plugins.modules"),
        Case("toml-old-plugins-not-strings", ["plugins = [1]"], 1, "plugins.modules"),
        Case("toml-options-of-no-plugin", ["[plugins.nosuch]\nx = 1"], 1, "plugins.nosuch"),
        Case("toml-unknown-plugin-option", ["[plugins.retrieval]\nchunk = 100"], 1, "plugins.retrieval.chunk"),
        Case("toml-task-without-plugin", ["[tasks.intent2]\nthreshold = 0.4"], 1, "tasks.intent2.plugin"),
        Case("toml-task-threshold-string", ["[tasks.intent2]\nplugin = 'classify'\nthreshold = 'high'"], 1, "tasks.intent2.threshold"),
        Case("toml-task-epochs-float", ["[tasks.intent2]\nplugin = 'classify'\nepochs = 1.5"], 1, "tasks.intent2.epochs"),
        Case("toml-task-lr-inf", ["[tasks.intent2]\nplugin = 'classify'\nlearning_rate = inf"], 1, "tasks.intent2.learning_rate"),
        Case("toml-task-unknown-plugin", ["[tasks.intent2]\nplugin = 'nosuch'"], 1, "nosuch"),
        Case("toml-unknown-embedder", ["[models]\nembedder = 'no/such-model'"], 1, "no/such-model"),
    ]
    return cases


CONFIG_CASES = _config_cases()


def _merged(template: str, fragment: str) -> str:
    """The template's lifelong.toml with ``fragment``'s settings put over it (raw, when the
    fragment is not TOML at all)."""
    try:
        update = tomllib.loads(fragment)
    except ValueError:  # not TOML, or an integer too long to convert
        return fragment + "\n" + template
    merged = tomllib.loads(template)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            for inner, item in value.items():
                merged[key][inner] = {**merged[key][inner], **item} if isinstance(item, dict) and isinstance(merged[key].get(inner), dict) else item
        else:
            merged[key] = value
    return tomli_w.dumps(merged)


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.id)
def test_bad_config(case, hostile_ws):
    config = hostile_ws / "lifelong.toml"
    config.write_text(_merged(config.read_text(), case.args[0]))
    before = snapshot(hostile_ws)
    task = "intent2" if "intent2" in case.args[0] else "chat"
    result = run_cli(hostile_ws, ["ask", "hello", "--task", task])
    assert result.exit_code == case.exit_code, result.output
    assert_one_line_error(result.output, case.names)
    assert_nothing_lost(before, snapshot(hostile_ws))


def _argument_cases() -> list[Case]:
    cases = []
    for value in BIG:
        cases += [
            Case(f"feedback-{value}", ["feedback", value, "--good"], 1, f"no interaction {value}"),
            Case(f"logs-show-{value}", ["logs", "show", value], 1, f"no interaction {value}"),
            Case(f"promote-{value}", ["promote", value], 1, f"no version {value}"),
            Case(f"search-k-{value}", ["search", "refund", "-k", value], 2, "-k"),
            Case(f"logs-n-{value}", ["logs", "-n", value], 2, "-n"),
            Case(f"examples-n-{value}", ["examples", "-n", value], 2, "-n"),
        ]
    for value in ("abc", "1.5", "", "0x10", "1e3"):
        cases += [
            Case(f"feedback-{value or 'empty'}", ["feedback", value, "--good"], 2, "interaction_id"),
            Case(f"promote-{value or 'empty'}", ["promote", value], 2, "version"),
            Case(f"search-k-{value or 'empty'}", ["search", "refund", "-k", value], 2, "-k"),
        ]
    cases += [
        Case("feedback-0", ["feedback", 0, "--good"], 1, "no interaction 0"),
        Case("promote-0", ["promote", 0], 1, "no version 0"),
        Case("search-k-0", ["search", "refund", "-k", 0], 2, "-k"),
        Case("feedback-unknown", ["feedback", 999, "--good"], 1, "no interaction with id 999"),
        Case("feedback-nothing", ["feedback", 1], 1, "--good, --bad or --correct"),
        Case("feedback-good-and-bad", ["feedback", 1, "--good", "--bad"], 1, "--good cannot be combined"),
        Case("feedback-empty-correction", ["feedback", 1, "--correct", "  "], 1, "correction is empty"),
        Case("ask-invalid-utf8", ["ask", "caf\udce9?"], 1, "not valid UTF-8"),
        Case("ask-empty", ["ask", "   "], 1, "empty"),
        Case("ask-unknown-task", ["ask", "hi", "--task", "nosuch"], 1, "nosuch"),
        Case("ask-invalid-utf8-task", ["ask", "hi", "--task", "n\udcffo"], 1, "unknown task"),
        Case("correct-invalid-utf8", ["feedback", 1, "--correct", "caf\udce9"], 1, "not valid UTF-8"),
        Case("search-invalid-utf8", ["search", "caf\udce9"], 1, "not valid UTF-8"),
        Case("search-bad-mode", ["search", "refund", "--mode", "fuzzy"], 1, "fuzzy"),
        Case("forget-unknown", ["forget", "/no/such/doc.txt"], 1, "/no/such/doc.txt"),
        Case("rollback-unknown-task", ["rollback", "--task", "nosuch"], 1, "nosuch"),
        Case("versions-unknown-task", ["versions", "--task", "nosuch"], 1, "no task 'nosuch'"),
        Case("report-unknown-task", ["report", "--task", "nosuch"], 1, "no task 'nosuch'"),
        Case("logs-unknown-task", ["logs", "--task", "nosuch"], 1, "no task 'nosuch'"),
        Case("examples-unknown-task", ["examples", "--task", "nosuch"], 1, "no task 'nosuch'"),
        Case("search-k-1001", ["search", "refund", "-k", 1001], 2, "-k"),
        Case("ask-30000-characters", ["ask", "a " * 15_000], 1, "at most 20,000"),
        Case("tasks-add-max-length-huge", ["tasks", "add", "t3", "--plugin", "classify", "-o", "max_length=99999999999"], 1, "max_length"),
        Case("tasks-add-empty-out-of-scope-label", ["tasks", "add", "t3", "--plugin", "classify", "-o", "out_of_scope_label="], 1,
             "out_of_scope_label"),
        Case("examples-import-name-too-long", ["examples", "import", "--task", "intent", "x" * 300 + ".jsonl"], 1, "too long"),
        Case("learn-unknown-task", ["learn", "--task", "nosuch"], 1, "nosuch"),
        Case("learn-unknown-strategy", ["learn", "--task", "intent", "--strategy", "nosuch"], 1, "nosuch"),
        Case("learn-nothing-new", ["learn", "--task", "intent"], 1, "no new examples"),
        Case("watch-unknown-task", ["learn", "--watch", "--every", "1s", "--task", "nosuch"], 1, "nosuch"),
        Case("watch-unknown-strategy", ["learn", "--watch", "--every", "1s", "--strategy", "nosuch"], 1, "nosuch"),
        Case("tasks-add-duplicate", ["tasks", "add", "intent", "--plugin", "classify"], 1, "exists already"),
        Case("tasks-add-bad-name", ["tasks", "add", "my task", "--plugin", "classify"], 1, "my task"),
        Case("tasks-add-unknown-plugin", ["tasks", "add", "t2", "--plugin", "nosuch"], 1, "nosuch"),
        Case("report-plot-into-missing-folder", ["report", "--plot", "/no/such/dir/x.png"], 1, "/no/such/dir"),
        Case("report-plot-unknown-format", ["report", "--plot", "history.nosuchformat"], 1, "history.nosuchformat"),
        Case("unknown-command", ["nosuchcommand"], 2, "nosuchcommand"),
        Case("serve-token-file-missing", ["serve", "--token-file", "/no/such/token"], 1, "/no/such/token"),
        Case("serve-token-twice", ["serve", "--token", "a", "--token-file", "/no/such/token"], 1, "give the token once"),
        Case("serve-public-without-token", ["serve", "--host", "0.0.0.0"], 1, "bearer token"),
        Case("serve-port-out-of-range", ["serve", "--port", "70000"], 2, "--port"),
        Case("serve-body-limit-zero", ["serve", "--max-body-mb", "0"], 2, "--max-body-mb"),
        Case("unknown-option", ["ask", "hi", "--nosuch"], 2, "--nosuch"),
    ]
    for every in ("-1s", "nans", "0s", "0", "inf", "abc", "", "1e999s", "-0.5m", "s"):
        cases.append(Case(f"watch-every-{every or 'empty'}", ["learn", "--watch", "--every", every], 1, "--every"))
    for option, names in (("threshold=abc", "threshold"), ("learning_rate=abc", "learning_rate"), ("epochs=1.5", "epochs"),
                          ("epochs=-3", "epochs"), ("threshold=inf", "threshold"), ("threshold=nan", "threshold"),
                          ("finetune=5", "finetune"), ("colour=red", "colour"), ("=x", "KEY=VALUE"), ("novalue", "KEY=VALUE"),
                          ("batch_size=1e400", "batch_size"), ("max_length=true", "max_length")):
        cases.append(Case(f"tasks-add-option-{option}", ["tasks", "add", "t2", "--plugin", "classify", "-o", option], 1, names))
    return cases


ARGUMENT_CASES = _argument_cases()


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=lambda c: c.id)
def test_bad_argument(case, hostile_ws):
    before = snapshot(hostile_ws)
    result = run_cli(hostile_ws, case.args)
    assert result.exit_code == case.exit_code, result.output
    if case.exit_code:
        assert_one_line_error(result.output, case.names)
    else:
        assert "Traceback" not in result.output and "Error" not in result.output
    assert_nothing_lost(before, snapshot(hostile_ws))


ENVIRONMENT_CASES = [
    Case("workspace-empty", [], 1, "LIFELONG_WORKSPACE", {"LIFELONG_WORKSPACE": ""}),
    Case("workspace-blank", [], 1, "LIFELONG_WORKSPACE", {"LIFELONG_WORKSPACE": "   "}),
    Case("workspace-under-proc", [], 1, "/proc/x", {"LIFELONG_WORKSPACE": "/proc/x"}),
    Case("workspace-under-a-file", [], 1, "/dev/null/x", {"LIFELONG_WORKSPACE": "/dev/null/x"}),
    Case("workspace-is-a-file", [], 1, "/dev/null", {"LIFELONG_WORKSPACE": "/dev/null"}),
    Case("load-plugins-typo", [], 1, "nosuchplugin", {"LIFELONG_LOAD_PLUGINS": "nosuchplugin"}),
    Case("load-plugins-empty", [], 1, "LIFELONG_LOAD_PLUGINS", {"LIFELONG_LOAD_PLUGINS": ""}),
    Case("load-plugins-without-chat", [], 1, "LIFELONG_LOAD_PLUGINS", {"LIFELONG_LOAD_PLUGINS": "fakes,retrieval"}),
    Case("load-plugins-without-hf-models", ["bundled"], 1, "smollm2",
         {"LIFELONG_LOAD_PLUGINS": "retrieval,chat,corrections,buffers,strategies,pii"}),
    Case("load-plugins-commas", [], 1, "LIFELONG_LOAD_PLUGINS", {"LIFELONG_LOAD_PLUGINS": ",,,"}),
]


@pytest.mark.parametrize("case", ENVIRONMENT_CASES, ids=lambda c: c.id)
def test_bad_environment(case, hostile_ws, monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise AssertionError("lifelong tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    before = snapshot(hostile_ws)
    ws = hostile_ws
    if case.args == ["bundled"]:  # a workspace on the default, bundled models
        ws = tmp_path / "bundled-ws"
    from hostile import environment

    with environment(case.env):
        from typer.testing import CliRunner

        from lifelong.cli import build_app

        args = ["ask", "hello"] if "LIFELONG_WORKSPACE" in case.env else ["-w", str(ws), "ask", "hello"]
        result = CliRunner().invoke(build_app(), args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == case.exit_code, result.output
    assert_one_line_error(result.output, case.names)
    assert_nothing_lost(before, snapshot(hostile_ws))


def test_the_corpus_holds_at_least_200_cases():
    import test_hostile_files
    import test_hostile_http
    import test_hostile_storage

    total = (len(CONFIG_CASES) + len(ARGUMENT_CASES) + len(ENVIRONMENT_CASES) + len(test_hostile_files.CASES)
             + len(test_hostile_http.CASES) + len(test_hostile_storage.CASES))
    print(f"hostile-input corpus: {total} cases")
    assert total >= 200


def test_serve_on_a_port_in_use_is_one_line(hostile_ws):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(hostile_ws, ["serve", "--port", port])
    assert result.exit_code == 1, result.output
    assert_one_line_error(result.output, f"cannot listen on 127.0.0.1:{port}")


def test_a_damaged_database_is_one_line_and_left_as_it_is(hostile_ws):
    database = hostile_ws / "lifelong.db"
    with sqlite3.connect(database) as conn:  # the pages of the logged rows, found damaged only when read
        size = conn.execute("pragma page_size").fetchone()[0]
        pages = [r[0] for r in conn.execute("select pageno from dbstat where name = 'interactions'")]
    conn.close()
    data = bytearray(database.read_bytes())
    for page in pages:
        data[(page - 1) * size: page * size] = b"\xff" * size
    database.write_bytes(bytes(data))
    for name in ("lifelong.db-wal", "lifelong.db-shm"):
        (hostile_ws / name).unlink(missing_ok=True)
    before = database.read_bytes()
    result = run_cli(hostile_ws, ["logs"])
    assert result.exit_code == 1, result.output
    assert_one_line_error(result.output, "lifelong.db")
    assert database.read_bytes() == before


def test_a_dropped_table_is_one_line_and_nothing_is_written(hostile_ws):
    """sqlite-utils reads a missing table as empty and makes a new one, of another shape, on
    the next write: the damage would be hidden, then made worse."""
    import sqlite3

    with sqlite3.connect(hostile_ws / "lifelong.db") as conn:
        conn.execute("drop table interactions")
    for args in (["logs"], ["ask", "a second question"]):
        result = run_cli(hostile_ws, args)
        assert result.exit_code == 1, result.output
        assert_one_line_error(result.output, "lost its table(s) interactions")
    with sqlite3.connect(hostile_ws / "lifelong.db") as conn:
        assert not conn.execute("select 1 from sqlite_master where name = 'interactions'").fetchone()


def test_two_megabytes_on_stdin_without_a_space_are_one_line_at_once(hostile_ws):
    """The refusal is logged with the question's first 20,000 characters, and the log's PII
    masking reads them at once (its e-mail pattern was quadratic on a run without an '@':
    hours for 2 MB)."""
    before = snapshot(hostile_ws)
    result = run_cli(hostile_ws, ["ask", "-"], input="x" * 2_000_000)
    assert result.exit_code == 1, result.output
    assert_one_line_error(result.output, "at most 20,000")
    assert_nothing_lost(before, snapshot(hostile_ws))
    with Agent.open(hostile_ws) as agent:
        logged = agent._log.recent(1)[0]
    assert logged["status"] == "error" and len(logged["input"]) < 20_100 and "more characters not kept" in logged["input"]
