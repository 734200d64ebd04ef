"""Classification heads over pooled sentence features. Each keeps its labels in the order they
were learned, so the first k labels of a head are the labels its parent knew.

``LinearHead`` is trained by gradient descent with the encoder. ``PrototypeHead`` and
``LDAHead`` are running statistics of the features: learning a label adds its rows to that
label's sum and count and to nothing else of another label, so they do not forget."""

from __future__ import annotations

import torch

# The float64 statistics make an update exact to the last bit whatever order rows arrive in
# batches; features are float32.
STATS = torch.float64


class LinearHead(torch.nn.Module):
    """A softmax layer; its confidence is the top class probability."""

    kind = "linear"

    def __init__(self, hidden: int, labels: list[str]):
        super().__init__()
        self.labels = list(labels)
        self.layer = torch.nn.Linear(hidden, len(labels))

    def forward(self, features):
        return self.layer(features)

    def grow(self, labels: list[str]) -> None:
        """Add output rows for unseen ``labels``; known labels' rows are kept as they are."""
        new = [label for label in labels if label not in self.labels]
        if not new:
            return
        old = self.layer
        self.layer = torch.nn.Linear(old.in_features, len(self.labels) + len(new))
        with torch.no_grad():
            self.layer.weight[: len(self.labels)] = old.weight
            self.layer.bias[: len(self.labels)] = old.bias
            self.layer.weight[len(self.labels) :].normal_(0, 0.02)
            self.layer.bias[len(self.labels) :] = old.bias.mean() if len(self.labels) else 0.0
        self.labels += new

    def predict(self, features, among: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Index and confidence of the best of the first ``among`` labels for each row."""
        probs = torch.softmax(self.layer(features.to(self.layer.weight.device))[:, :among], dim=-1)
        confidence, index = probs.max(dim=-1)
        return index, confidence

    def state(self) -> dict:
        return {"weight": self.layer.weight.detach().cpu().contiguous(), "bias": self.layer.bias.detach().cpu().contiguous()}

    def load(self, state: dict) -> None:
        self.layer.load_state_dict({"weight": state["weight"], "bias": state["bias"]})


class PrototypeHead(torch.nn.Module):
    """Nearest class mean by cosine similarity (Mensink et al. 2013); its confidence is that
    similarity. Features are L2-normalised, as the sentence encoder was trained to be compared."""

    kind = "prototype"

    def __init__(self, hidden: int, labels: list[str]):
        super().__init__()
        self.labels = list(labels)
        self.register_buffer("counts", torch.zeros(len(labels), dtype=STATS))
        self.register_buffer("sums", torch.zeros(len(labels), hidden, dtype=STATS))

    def grow(self, labels: list[str]) -> None:
        new = [label for label in labels if label not in self.labels]
        if not new:
            return
        self.counts = torch.cat([self.counts, torch.zeros(len(new), dtype=STATS)])
        self.sums = torch.cat([self.sums, torch.zeros(len(new), self.sums.shape[1], dtype=STATS)])
        self.labels += new

    def add(self, features, index) -> None:
        """Add rows ``features`` of labels ``index`` (positions in ``labels``) to the statistics."""
        x = torch.nn.functional.normalize(features.to(STATS), dim=-1)
        for label in index.unique().tolist():
            self._add_label(label, x[index == label])

    def _add_label(self, label: int, x) -> None:
        self.counts[label] += x.shape[0]
        self.sums[label] += x.sum(0)

    def means(self):
        return self.sums / self.counts.clamp(min=1).unsqueeze(1)

    def predict(self, features, among: int):
        x = torch.nn.functional.normalize(features.to(STATS), dim=-1)
        similarity = x @ torch.nn.functional.normalize(self.means()[:among], dim=-1).T
        confidence, index = similarity.max(dim=-1)
        return index, confidence.float()

    def state(self) -> dict:
        return {"counts": self.counts.contiguous(), "sums": self.sums.contiguous()}

    def load(self, state: dict) -> None:
        self.counts, self.sums = state["counts"], state["sums"]


class LDAHead(PrototypeHead):
    """Class means with one shared covariance (linear discriminant analysis, equal priors): the
    nearest mean by Mahalanobis distance. The within-class scatter is updated row batch by row
    batch (Chan et al.'s pairwise update), so no row needs to be kept; the covariance is shrunk
    towards a scaled identity with the Oracle Approximating Shrinkage coefficient (Chen et al.
    2010), which needs only the covariance and the row count. Its confidence is
    1 / (1 + d²/dim), d the distance to the nearest mean: 0.5 at a typical in-scope distance."""

    kind = "lda"

    def __init__(self, hidden: int, labels: list[str]):
        super().__init__(hidden, labels)
        self.register_buffer("scatter", torch.zeros(hidden, hidden, dtype=STATS))
        self._precision = None

    def _add_label(self, label: int, x) -> None:
        n_old, n_new = self.counts[label].item(), x.shape[0]
        mean_new = x.mean(0)
        centred = x - mean_new
        self.scatter += centred.T @ centred
        if n_old:
            shift = mean_new - self.sums[label] / n_old
            self.scatter += torch.outer(shift, shift) * (n_old * n_new / (n_old + n_new))
        super()._add_label(label, x)
        self._precision = None

    def covariance(self):
        """The pooled within-class covariance, shrunk; the identity while there are not more rows
        than labels (no spread to estimate yet)."""
        dim = self.scatter.shape[0]
        rows, labels = self.counts.sum().item(), int((self.counts > 0).sum().item())
        identity = torch.eye(dim, dtype=STATS)
        if rows <= labels or self.scatter.trace() <= 0:
            return identity
        empirical = self.scatter / (rows - labels)
        mu = empirical.trace() / dim
        alpha = (empirical**2).mean()
        shrinkage = min(((alpha + mu**2) / ((rows + 1) * (alpha - mu**2 / dim))).item(), 1.0)
        return (1 - shrinkage) * empirical + shrinkage * mu * identity

    def precision(self):
        if self._precision is None:
            self._precision = torch.linalg.inv(self.covariance())
        return self._precision

    def predict(self, features, among: int):
        x = torch.nn.functional.normalize(features.to(STATS), dim=-1)
        means, precision = self.means()[:among], self.precision()
        # d²(x, m) = xPx - 2 xPm + mPm, for every row and mean at once
        xp = x @ precision
        distance = (xp * x).sum(1, keepdim=True) - 2 * xp @ means.T + ((means @ precision) * means).sum(1)
        nearest, index = distance.clamp(min=0).min(dim=-1)
        return index, (1 / (1 + nearest / x.shape[1])).float()

    def state(self) -> dict:
        return {**super().state(), "scatter": self.scatter.contiguous()}

    def load(self, state: dict) -> None:
        super().load(state)
        self.scatter, self._precision = state["scatter"], None


HEADS = {head.kind: head for head in (LinearHead, PrototypeHead, LDAHead)}
