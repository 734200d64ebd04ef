"""The CLI's help and plugin list start without torch (benchmarks/cli_startup.py times them)."""

import os
import subprocess
import sys

import pytest

# Printed by the child after the command ran: whether torch was imported meanwhile.
PROBE = """
import sys
from lifelong.cli import main
sys.argv = ["lifelong", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
print("torch imported:", "torch" in sys.modules)
"""


@pytest.mark.parametrize("args", [["--help"], ["plugins"]])
def test_command_runs_without_importing_torch(args, workspace):
    env = {**os.environ, "LIFELONG_WORKSPACE": str(workspace)}
    env.pop("LIFELONG_LOAD_PLUGINS")  # every built-in, as a user runs it
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "torch imported: False" in done.stdout, done.stdout[-500:]


OFFLINE_PROBE = """
import os, sys
import huggingface_hub.constants as hub
import lifelong
print("after import:", os.environ.get("HF_HUB_OFFLINE"), hub.HF_HUB_OFFLINE)
from lifelong.models import load_embedder
from lifelong.testing.tiny_models import tiny_embedder_path
load_embedder(tiny_embedder_path())
print("after a load:", os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"), hub.HF_HUB_OFFLINE)
"""


def test_importing_lifelong_leaves_the_hub_online_and_loading_a_model_does_not():
    """A host program's own use of the Hub is its business until lifelong loads a model; then
    nothing reaches the network, the Hub the host imported first included."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    done = subprocess.run([sys.executable, "-c", OFFLINE_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "after import: None False" in done.stdout and "after a load: 1 1 True" in done.stdout, done.stdout
