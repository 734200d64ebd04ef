"""Built-in continual-learning strategies. A strategy decides *when* the replay buffer is mixed
in (``plan``, before training) and updated (``after_cycle``, once a candidate is promoted)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifelong.api import Options, Plan, Strategy, atomic_write, hookimpl, option, select_replayed

EWC_FILE = "ewc.safetensors"


@dataclass
class StrategyOptions(Options):
    ewc_lambda: float = option(1000.0, "Strength of the EWC penalty (strategy 'ewc')", at_least=0)


class Naive(Strategy):
    """New examples only: the lower bound, which forgets."""


class Replay(Strategy):
    """Experience replay: new examples plus ``replay_ratio`` times as many from the buffer."""

    def plan(self, new, parent_path, rng):
        wanted = round(self.agent.config.learning.replay_ratio * len(new))
        replayed = select_replayed(self.buffer.items(), wanted, rng)
        return Plan([*new, *replayed], replayed=len(replayed))


class Joint(Strategy):
    """Every training example so far: the upper bound, at a cost that grows with the stream."""

    def plan(self, new, parent_path, rng):
        earlier = [e for e in self.agent.learned_examples(self.task.name) if e["split"] == "train"]
        return Plan([*earlier, *new], replayed=len(earlier))


class EWC(Strategy):
    """Elastic weight consolidation on the adapter weights (Kirkpatrick et al. 2017): new
    examples only, with a penalty for moving weights that mattered to earlier cycles."""

    def plan(self, new, parent_path, rng):
        if not parent_path or not (Path(parent_path) / EWC_FILE).exists():
            return Plan(list(new))
        from safetensors.torch import load_file

        saved = load_file(str(Path(parent_path) / EWC_FILE))
        strength = self.agent.plugin_options(StrategyOptions).ewc_lambda

        def penalty(model):
            total = 0.0
            for name, param in model.named_parameters():
                if f"fisher.{name}" in saved:
                    anchor = saved[f"anchor.{name}"]
                    # A classifier head grows with new labels: only the rows that existed count.
                    current = param[: anchor.shape[0]] if param.shape != anchor.shape else param
                    total = total + (saved[f"fisher.{name}"] * (current - anchor) ** 2).sum()
            return strength / 2 * total

        return Plan(list(new), penalty=penalty)

    def after_cycle(self, new, model, adapter_path):
        from safetensors.torch import load_file, save_file

        fisher = self.task.fisher(model, new)
        tensors = {}
        for name, param in model.named_parameters():
            if name in fisher:
                tensors[f"fisher.{name}"] = fisher[name].contiguous()
                tensors[f"anchor.{name}"] = param.detach().clone().contiguous()
        previous = self._parent_file(adapter_path)
        if previous is not None:
            for key, value in load_file(str(previous)).items():
                if key.startswith("fisher.") and key in tensors:
                    rows = value.shape[0]
                    tensors[key][:rows] += value  # importance accumulates over cycles
        with atomic_write(Path(adapter_path) / EWC_FILE) as tmp:
            save_file(tensors, str(tmp))

    def _parent_file(self, adapter_path):
        parent = self.agent.parent_adapter(adapter_path)
        path = Path(parent) / EWC_FILE if parent else None
        return path if path and path.exists() else None


@hookimpl
def plugin_options():
    return StrategyOptions


@hookimpl
def register_learners(register):
    register("naive", Naive)
    register("replay", Replay)
    register("joint", Joint)
    register("ewc", EWC)
