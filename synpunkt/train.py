"""Fine-tune the comment classifier (in the spirit of Hugging Face's example training scripts).

Steps: load labelled data -> tokenise with ``datasets`` -> train LoRA adapters + heads (seeded, progress
bar) -> fit temperatures and topic thresholds on validation -> save -> evaluate -> write the model card.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from synpunkt.config import DEFAULT_BASE_MODEL, DEFAULT_MODEL_DIR, IN_DOMAIN_DATA, SHIPPABLE_PUBLIC_SOURCES
from synpunkt.labels import SENTIMENTS, TOPICS, sentiment_index, topic_vector
from synpunkt.model import CommentClassifier, ModelSettings, build_model, save_model
from synpunkt.reproduce import code_revision
from synpunkt.signals.data import URGENT_CATEGORIES

log = logging.getLogger(__name__)
IGNORE = -100


@dataclass
class TrainConfig:
    """Training settings; every field is a `synpunkt train` option."""

    output_dir: Path = DEFAULT_MODEL_DIR
    base_model: str = DEFAULT_BASE_MODEL
    in_domain: Path = IN_DOMAIN_DATA
    public_sources: tuple[str, ...] = SHIPPABLE_PUBLIC_SOURCES
    data_dir: Path | None = None  # shared datasets folder (default: ../shared/datasets)
    epochs: float = 4.0  # 4 beat 3 on in-domain validation (issue 7 runs; see the model's NOTES.md)
    batch_size: int = 16
    learning_rate: float = 6e-4
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    in_domain_oversample: int = 3  # in-domain rows are repeated this often per epoch
    topic_loss_weight: float = 2.0  # topics are learned from in-domain rows only: weigh them up
    max_length: int = 256  # at inference
    train_max_length: int = 128  # training truncates harder: most comments are far shorter, and it is CPU time
    trainable_layers: int = 6  # top 6 of 12 beat all 12 on in-domain validation (issue 7 runs)
    augment_probability: float = 0.5  # share of repeated in-domain copies and public rows given a perturbed text
    augment_weights: dict[str, float] | None = None  # how often each perturbation is drawn (None: augment.WEIGHTS)
    seed: int = 42
    max_train_examples: int | None = None  # for quick experiments and tests
    lora_r: int = 16
    name: str = "synpunkt-sv-e5small"
    evaluate_public: bool = True  # evaluate on every public test split found
    device: str = "auto"  # training device: "auto" (CUDA when present, else CPU), "cpu" or "cuda"
    corrections: Path | None = None  # a warehouse whose reviewers' corrections join the training rows
    threads: int | None = None  # CPU threads for torch (None: torch's default, every core). On a machine shared
    # with other work, 1 thread trained ~5x faster than 2 on this 2-core machine (OpenMP threads wait on each other)
    topic_lexicon: bool = False  # fit topic_lexicon.npz on the train split and blend it (`synpunkt train`: on)
    signal_heads: bool = False  # also learn the auxiliary urgent and repeat-contact heads (data/urgent, data/repeat_contact)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# -- data -> tensors --------------------------------------------------------------------------------------
def encode_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Label columns as model targets: sentiment index, topic multi-hot + mask, per-topic sentiment, and where the
    frame has them (``--signal-heads``) the urgent category index and the repeat-contact target + mask. A missing
    label is IGNORE (or mask 0): the urgent and repeat-contact rows carry no sentiment."""
    out = pd.DataFrame({"text": df["text"].astype(str)})
    out["sentiment_id"] = df["sentiment"].map(lambda s: sentiment_index(s) if s in SENTIMENTS else IGNORE)
    has_topics = df["topics"].map(lambda t: t is not None and not (isinstance(t, float) and math.isnan(t)))
    out["topic_mask"] = has_topics.astype(float)
    out["topic_targets"] = [topic_vector(t) if h else [0.0] * len(TOPICS) for t, h in zip(df["topics"], has_topics)]
    ts = df["topic_sentiment"] if "topic_sentiment" in df else pd.Series([None] * len(df))
    out["topic_sentiment_ids"] = [
        [sentiment_index(d[t]) if isinstance(d, dict) and d.get(t) in SENTIMENTS else IGNORE for t in TOPICS]
        for d in ts
    ]
    urgent = df["urgent"] if "urgent" in df else pd.Series([None] * len(df), index=df.index)
    out["urgent_id"] = [URGENT_CATEGORIES.index(u) if u in URGENT_CATEGORIES else IGNORE for u in urgent]
    repeat = df["repeat_contact"] if "repeat_contact" in df else pd.Series([None] * len(df), index=df.index)
    labelled = [isinstance(r, (bool, np.bool_)) for r in repeat]
    out["repeat_mask"] = [float(k) for k in labelled]
    out["repeat_target"] = [float(r) if k else 0.0 for r, k in zip(repeat, labelled)]
    return out


def signal_rows(in_domain: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For ``--signal-heads``: the in-domain rows with ``urgent`` = "none" (ordinary comments, as the signal heads'
    training treats them) and their repeat-contact labels where data/repeat_contact labels them, plus the train
    rows of data/urgent and the written rows of data/repeat_contact (no sentiment or topics), as
    synpunkt.signals.data reads them."""
    from synpunkt.signals.data import repeat_data, urgent_data

    repeat = repeat_data()
    labels = repeat[repeat["source"] == "comments"].set_index("id")["repeat_contact"]
    in_domain = in_domain.assign(urgent="none",
                                 repeat_contact=in_domain["id"].map(lambda i: bool(labels[i]) if i in labels else None))
    urgent = urgent_data()
    written = repeat[repeat["source"] == "written"]
    extra = pd.concat([
        pd.DataFrame({"text": urgent["text"], "urgent": urgent["category"], "split": urgent["split"],
                      "source": "urgent"}),
        pd.DataFrame({"text": written["text"], "repeat_contact": written["repeat_contact"].astype(bool),
                      "split": written["split"], "source": "repeat_contact"}),
    ], ignore_index=True)
    extra = extra.assign(sentiment=None, topics=None, topic_sentiment=None)
    return in_domain, extra


def to_dataset(df: pd.DataFrame, tokenizer, settings: ModelSettings, max_length: int | None = None):
    """A tokenised ``datasets.Dataset`` (no padding: batches are padded dynamically)."""
    from datasets import Dataset

    ds = Dataset.from_pandas(encode_labels(df), preserve_index=False)

    def tokenize(batch):
        enc = tokenizer([settings.text_prefix + t for t in batch["text"]], truncation=True,
                        max_length=max_length or settings.max_length)
        return {"input_ids": enc["input_ids"], "length": [len(x) for x in enc["input_ids"]]}

    return ds.map(tokenize, batched=True, remove_columns=["text"], desc="Tokenising")


def collate(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r["input_ids"])] = torch.tensor(r["input_ids"])
        mask[i, : len(r["input_ids"])] = 1
    return {
        "input_ids": ids, "attention_mask": mask,
        "sentiment_id": torch.tensor([r["sentiment_id"] for r in rows]),
        "topic_mask": torch.tensor([r["topic_mask"] for r in rows], dtype=torch.float),
        "topic_targets": torch.tensor([r["topic_targets"] for r in rows], dtype=torch.float),
        "topic_sentiment_ids": torch.tensor([r["topic_sentiment_ids"] for r in rows]),
        "urgent_id": torch.tensor([r["urgent_id"] for r in rows]),
        "repeat_mask": torch.tensor([r["repeat_mask"] for r in rows], dtype=torch.float),
        "repeat_target": torch.tensor([r["repeat_target"] for r in rows], dtype=torch.float),
    }


def length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random, group: int = 50) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), like transformers' group_by_length."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    batches = []
    for start in range(0, len(idx), batch_size * group):
        mega = sorted(idx[start : start + batch_size * group], key=lambda i: -lengths[i])
        batches += [mega[i : i + batch_size] for i in range(0, len(mega), batch_size)]
    rng.shuffle(batches)
    return batches


def multitask_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], topic_weight: float = 1.0) -> torch.Tensor:
    """Sentiment CE (where labelled) + topic BCE (rows with topic labels only) + per-topic sentiment CE (where
    labelled); with the auxiliary heads, urgent CE and repeat-contact BCE where labelled."""
    loss = out["sentiment"].new_zeros(())
    if (batch["sentiment_id"] != IGNORE).any():
        loss = loss + F.cross_entropy(out["sentiment"], batch["sentiment_id"], ignore_index=IGNORE)
    mask = batch["topic_mask"]
    if mask.sum() > 0:
        bce = F.binary_cross_entropy_with_logits(out["topics"], batch["topic_targets"], reduction="none")
        loss = loss + topic_weight * (bce.mean(1) * mask).sum() / mask.sum()
    ts_targets = batch["topic_sentiment_ids"]
    if (ts_targets != IGNORE).any():
        loss = loss + 0.5 * F.cross_entropy(out["topic_sentiment"].reshape(-1, len(SENTIMENTS)),
                                            ts_targets.reshape(-1), ignore_index=IGNORE)
    if "urgent" in out and (batch["urgent_id"] != IGNORE).any():
        loss = loss + F.cross_entropy(out["urgent"], batch["urgent_id"], ignore_index=IGNORE)
    if "repeat_contact" in out and batch["repeat_mask"].sum() > 0:
        bce = F.binary_cross_entropy_with_logits(out["repeat_contact"], batch["repeat_target"], reduction="none")
        loss = loss + (bce * batch["repeat_mask"]).sum() / batch["repeat_mask"].sum()
    return loss


# -- training --------------------------------------------------------------------------------------------
def train_model(model: CommentClassifier, train_ds, cfg: TrainConfig, pad_id: int) -> list[float]:
    """The training loop: AdamW, linear warm-up and decay, length-grouped batches. Returns epoch losses."""
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    head_params = [p for n, p in model.named_parameters() if p.requires_grad and n.split(".")[0].endswith("head")]
    body_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.split(".")[0].endswith("head")]
    opt = torch.optim.AdamW([{"params": body_params, "lr": cfg.learning_rate},
                             {"params": head_params, "lr": cfg.head_learning_rate}], weight_decay=cfg.weight_decay)
    rng = random.Random(cfg.seed)
    lengths = train_ds["length"]
    steps_per_epoch = math.ceil(len(lengths) / cfg.batch_size)
    total = max(1, int(steps_per_epoch * cfg.epochs))
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * total), total)
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                          "cpu" if cfg.device == "auto" else cfg.device)
    model.to(device)
    model.train()
    step, losses = 0, []
    with tqdm(total=total, desc="Training", unit="step") as bar:
        while step < total:
            running, count = 0.0, 0
            for batch_idx in length_grouped_batches(lengths, cfg.batch_size, rng):
                if step >= total:
                    break
                batch = {k: v.to(device) for k, v in collate([train_ds[i] for i in batch_idx], pad_id).items()}
                loss = multitask_loss(model(batch["input_ids"], batch["attention_mask"]), batch, cfg.topic_loss_weight)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(body_params + head_params, 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
                step += 1
                running, count = running + loss.item(), count + 1
                bar.update(1)
                bar.set_postfix(loss=f"{running / count:.3f}", epoch=f"{step / steps_per_epoch:.2f}")
            losses.append(running / max(count, 1))
            log.info("epoch %d: mean training loss %.4f", len(losses), losses[-1])
    model.to("cpu")  # calibration, evaluation and inference run on the CPU
    model.eval()
    return losses


def training_rows(in_domain: pd.DataFrame, public: pd.DataFrame, cfg: TrainConfig) -> pd.DataFrame:
    """In-domain rows repeated ``in_domain_oversample`` times plus public rows; every copy but the first
    in-domain one is augmented (synpunkt.augment) with probability ``augment_probability``."""
    from synpunkt.augment import augment_frame

    copies = [in_domain] + [augment_frame(in_domain, cfg.augment_probability, seed=cfg.seed + k,
                                          weights=cfg.augment_weights)
                            for k in range(1, cfg.in_domain_oversample)]
    copies.append(augment_frame(public, cfg.augment_probability, seed=cfg.seed, weights=cfg.augment_weights))
    return pd.concat(copies, ignore_index=True)


def run_training(cfg: TrainConfig, encoder=None, tokenizer=None) -> dict:
    """Train, calibrate, save, evaluate and write the model card; returns the evaluation report."""
    from synpunkt.data import load_in_domain, load_public
    from synpunkt.evaluate import calibrate, evaluate_standard, write_model_card

    set_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    started = time.time()
    code = code_revision()  # at the start: the tree may change during a long run
    if code and not code["clean"]:
        log.warning("the project has uncommitted changes: the training record names commit %s, which this run's "
                    "code and data differ from (commit first for a run that scripts/reproduce_weights.py can "
                    "repeat)", code["commit"][:12])
    settings = ModelSettings(name=cfg.name, base_model=cfg.base_model, max_length=cfg.max_length, lora_r=cfg.lora_r,
                             lora_alpha=2 * cfg.lora_r, trainable_layers=cfg.trainable_layers, unshout=True,
                             respell=True, signal_heads=cfg.signal_heads)
    model, base_tok = build_model(settings, encoder)
    tokenizer = tokenizer or base_tok
    if encoder is None:  # the base records its own prompt prefix (E5: "query: ")
        from synpunkt.base_model import base_model_info, resolve_base_model
        settings.text_prefix = base_model_info(resolve_base_model(cfg.base_model)).get("text_prefix", "")

    in_domain = load_in_domain(cfg.in_domain)
    if cfg.corrections:  # reviewers' corrections (synpunkt review import) as extra in-domain training rows
        from synpunkt.review import corrections_training_rows

        in_domain = pd.concat([in_domain, corrections_training_rows(cfg.corrections)], ignore_index=True)
    public = load_public(cfg.public_sources, cfg.data_dir) if cfg.public_sources else in_domain.iloc[:0]
    train_in_domain = in_domain[in_domain.split == "train"]
    extra = None
    if cfg.signal_heads:
        train_in_domain, extra = signal_rows(train_in_domain)
    train_df = training_rows(train_in_domain, public[public.split == "train"], cfg)
    if extra is not None:  # the urgent and repeat-contact train rows, once per epoch, as written
        train_df = pd.concat([train_df, extra[extra.split == "train"]], ignore_index=True)
    if cfg.max_train_examples:
        train_df = train_df.sample(n=min(cfg.max_train_examples, len(train_df)), random_state=cfg.seed)
    log.info("training on %d rows (%s)", len(train_df), train_df["source"].value_counts().to_dict())
    train_ds = to_dataset(train_df, tokenizer, settings, cfg.train_max_length)
    losses = train_model(model, train_ds, cfg, tokenizer.pad_token_id)

    # Calibrate on validation: sentiment on every validation row, topics on in-domain validation.
    validation = pd.concat([in_domain[in_domain.split == "validation"], public[public.split == "validation"]],
                           ignore_index=True)
    save_model(model, cfg.output_dir)  # the merged copy below must not be what we save
    from synpunkt.classifier import Classifier
    from synpunkt.model import model_version

    clf = Classifier(model, tokenizer, settings, "unsaved")
    if cfg.topic_lexicon:  # saved before calibrate, which chooses its blend weight (synpunkt.topic_lexicon)
        from synpunkt.topic_lexicon import fit_lexicon, lexicon_rows

        clf.lexicon = fit_lexicon(lexicon_rows(in_domain))
        clf.lexicon.save(cfg.output_dir)
    calibrate(clf, validation)
    settings.save(cfg.output_dir)
    clf.version = model_version(cfg.output_dir)

    # The independent test set belongs to the project's own data: evaluated only when training on that.
    independent = None if Path(cfg.in_domain).resolve() == IN_DOMAIN_DATA.resolve() else in_domain.iloc[:0]
    report = evaluate_standard(clf, in_domain, data_dir=cfg.data_dir, include_public=cfg.evaluate_public,
                               independent=independent)
    from synpunkt.evaluate import evaluate_frame

    # Model selection compares runs on in-domain validation (never on a test set).
    report["validation"] = evaluate_frame(clf, in_domain[in_domain.split == "validation"].reset_index(drop=True))
    report["training"] = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "train_rows": train_df["source"].value_counts().to_dict(),
        "epoch_losses": losses,
        "seconds": round(time.time() - started, 1),
        "torch_threads": torch.get_num_threads(),
        "device": "cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu",
        "code": code,  # the commit its code and data came from (scripts/reproduce_weights.py)
    }
    write_model_card(cfg.output_dir, report, settings)
    return report
