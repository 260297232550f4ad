"""Model hyper-parameters: a small frozen dataclass, mapped from ``TrainConfig``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

VARIANTS = ("control", "mon", "sub", "smo")


@dataclass(frozen=True)
class ModelHParams:
    """Architecture, optimiser and loss weights shared by UBTM and the baselines.

    Cost-valued loss terms (regression, std, consistency) are computed on costs divided
    by the model's ``cost_scale`` (the RMS of the training costs, set by
    ``adapt_normalization``), so that their sizes do not depend on the currency unit.

    Attributes:
        hidden_units: widths of the shared ReLU trunk; the last one is also the width of
            the level tower (trunk output + a learned level embedding).
        embedding_dim: width of each sparse feature's embedding.
        learning_rate: Adam learning rate.
        clipnorm: global gradient-norm clip of Adam (bounds the step a rare huge cost takes).
        ema_momentum: Polyak averaging: the model keeps an exponential moving average of its weights
            over the training steps (this momentum per step), validates and is saved with it; 0 = off.
        w_tree: weight of the masked node cross-entropy (Eq. 5).
        w_reg: weight of the regression loss of ``y`` at the observed level.
        w_std: weight of the predicted standard deviation at the observed level.
        w_consistency: weight of the squared gap between ``y_k`` and the tree's ``E_k`` (all levels).
        w_lipschitz: weight of the Lipschitz penalty of the ``smo`` variant (Eq. 15).
        reg_loss: ``mse`` (default; its minimiser is the conditional mean) or ``huber``.
        huber_delta: Huber threshold, in units of ``cost_scale``.
        within_leaf_std: add each leaf's training spread to the tree's predictive variance.
        cread_thresholds: CREAD thresholds (empty: derived from the cost tree by the factory).
        exclude_features: numeric feature columns the model does not read (``fnmatch`` patterns, e.g.
            ``n_creatives_*``): their standardised values are zeroed, so the columns stay in the data.
    """

    hidden_units: tuple[int, ...] = (128, 64)
    embedding_dim: int = 8
    learning_rate: float = 0.002
    clipnorm: float = 1.0
    ema_momentum: float = 0.0
    w_tree: float = 1.0
    w_reg: float = 1.0
    w_std: float = 0.01
    w_consistency: float = 1.0
    w_lipschitz: float = 1e-4
    reg_loss: Literal["mse", "huber"] = "mse"
    huber_delta: float = 10.0
    within_leaf_std: bool = True
    cread_thresholds: tuple[float, ...] = ()
    exclude_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.hidden_units or any(int(u) < 1 for u in self.hidden_units):
            raise ValueError(f"hidden_units: need at least one positive width, got {self.hidden_units}")
        if self.reg_loss not in ("mse", "huber"):
            raise ValueError(f"reg_loss: must be 'mse' or 'huber', got {self.reg_loss!r}")
        weights = ("w_tree", "w_reg", "w_std", "w_consistency", "w_lipschitz", "learning_rate", "huber_delta")
        for name in weights:
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.ema_momentum < 1:
            raise ValueError(f"ema_momentum: must be in [0, 1), got {self.ema_momentum}")
        object.__setattr__(self, "hidden_units", tuple(int(u) for u in self.hidden_units))
        object.__setattr__(self, "cread_thresholds", tuple(float(t) for t in self.cread_thresholds))
        object.__setattr__(self, "exclude_features", tuple(str(p) for p in self.exclude_features))

    @classmethod
    def from_train_config(cls, train: Any, **overrides: Any) -> ModelHParams:
        """The hyper-parameters named in ``acq_spark.config.TrainConfig`` (plus ``overrides``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {name: getattr(train, name) for name in names if hasattr(train, name)}
        return cls(**{**values, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples as lists), for Keras ``get_config``."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelHParams:
        """The inverse of :meth:`to_dict`."""
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)
