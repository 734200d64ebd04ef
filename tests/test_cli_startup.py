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
