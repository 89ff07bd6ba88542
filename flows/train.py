"""Prefect flow: fine-tune, calibrate, evaluate and document the comment classifier.

    data -> train -> calibrate + save -> evaluate -> model card
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from synpunkt.train import TrainConfig, run_training


@flow(name="train-classifier", log_prints=False)
def train_flow(config: TrainConfig | None = None) -> dict:
    """Train the classifier described by ``config`` and return its evaluation report."""
    logger = get_run_logger()
    config = config or TrainConfig()
    logger.info("Training %s on base %s -> %s", config.name, config.base_model, config.output_dir)
    report = run_training(config)
    for key, t in report["targets"].items():
        logger.info("target %s: %s (target %s) %s", key, t["value"], t["target"], "met" if t["met"] else "MISSED")
    return report
