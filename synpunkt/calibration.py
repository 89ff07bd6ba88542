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
    params = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=True)  # log T, b_1..b_{k-1}
    opt = torch.optim.LBFGS([params], lr=0.1, max_iter=500)

    def closure():
        opt.zero_grad()
        bias = torch.cat([torch.zeros(1, dtype=torch.float64), params[1:]])
        loss = torch.nn.functional.cross_entropy(z / params[0].exp() + bias, y)
        loss.backward()
        return loss

    opt.step(closure)
    values = params.detach().numpy()
    if not np.isfinite(values).all():  # too little validation data for the optimiser: no scaling
        return 1.0, ()
    return float(np.clip(np.exp(values[0]), 0.05, 20.0)), (0.0, *(float(b) for b in values[1:]))


def fit_binary_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """One temperature for independent sigmoid outputs (multi-label topics)."""
    return _fit(torch.nn.functional.binary_cross_entropy_with_logits,
                torch.as_tensor(logits, dtype=torch.float64), torch.as_tensor(targets, dtype=torch.float64))


def _fit(loss_fn, logits: torch.Tensor, targets: torch.Tensor) -> float:
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)  # optimise log T: keeps T positive
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure():
        opt.zero_grad()
        loss = loss_fn(logits / log_t.exp(), targets)
        loss.backward()
        return loss

    opt.step(closure)
    t = log_t.exp().item()
    if not np.isfinite(t):  # too little validation data for the optimiser (a tiny split): no scaling
        return 1.0
    return float(np.clip(t, 0.05, 20.0))


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
