"""Temperature scaling (Guo et al. 2017), optionally with a bias per class (BCTS: Alexandari, Kundaje and Shrikumar
2020), and topic thresholds, fitted on a validation split."""

from __future__ import annotations

import numpy as np
import torch


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature T minimising the NLL of softmax(logits / T) on labelled validation data."""
    return _fit(torch.nn.functional.cross_entropy, torch.as_tensor(logits, dtype=torch.float64),
                torch.as_tensor(np.array(labels), dtype=torch.long))


def fit_temperature_and_bias(logits: np.ndarray, labels: np.ndarray) -> tuple[float, tuple[float, ...]]:
    """T and biases b (b_0 = 0) minimising the NLL of softmax(logits / T + b): temperature scaling that also moves
    the class priors, e.g. when the training rows' class mix differs from the validation split's."""
    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(np.array(labels), dtype=torch.long)
    zero = torch.zeros(1, dtype=torch.float64)

    def loss(params: torch.Tensor) -> torch.Tensor:  # params: log T, b_1..b_{k-1}
        return torch.nn.functional.cross_entropy(z / params[0].exp() + torch.cat([zero, params[1:]]), y)

    values = _minimise(loss, z.shape[1], max_iter=500)
    if values is None:
        return 1.0, ()
    return float(np.clip(values[0].exp().item(), 0.05, 20.0)), (0.0, *(float(b) for b in values[1:]))


def fit_binary_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """One temperature for independent sigmoid outputs (multi-label topics)."""
    return _fit(torch.nn.functional.binary_cross_entropy_with_logits,
                torch.as_tensor(logits, dtype=torch.float64), torch.as_tensor(targets, dtype=torch.float64))


def _fit(loss_fn, logits: torch.Tensor, targets: torch.Tensor) -> float:
    """One temperature for `loss_fn(logits / T, targets)`, optimised as log T (keeps T positive)."""
    values = _minimise(lambda log_t: loss_fn(logits / log_t.exp(), targets), 1, max_iter=200)
    t = float("nan") if values is None else values[0].exp().item()
    return float(np.clip(t, 0.05, 20.0)) if np.isfinite(t) else 1.0


def _minimise(loss, size: int, max_iter: int) -> torch.Tensor | None:
    """The parameters (float64, starting at zero) minimising `loss(params)` by L-BFGS; None when the optimiser
    diverged (too little validation data, e.g. a tiny split): the caller then applies no scaling."""
    params = torch.zeros(size, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([params], lr=0.1, max_iter=max_iter)

    def closure():
        opt.zero_grad()
        value = loss(params)
        value.backward()
        return value

    opt.step(closure)
    values = params.detach()
    return values if bool(torch.isfinite(values).all()) else None


def fit_thresholds(probs: np.ndarray, targets: np.ndarray, grid: np.ndarray | None = None,
                   shrink: float = 0.5) -> list[float]:
    """Per-label decision thresholds maximising F1 on validation, shrunk towards 0.5 to limit overfitting."""
    from sklearn.metrics import f1_score

    grid = np.arange(0.2, 0.81, 0.05) if grid is None else grid
    out = []
    for j in range(probs.shape[1]):
        scores = [f1_score(targets[:, j], probs[:, j] >= g, zero_division=0) for g in grid]
        best = float(grid[int(np.argmax(scores))])
        out.append(round(0.5 + (best - 0.5) * (1 - shrink), 3))
    return out
