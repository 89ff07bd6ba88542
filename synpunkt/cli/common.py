"""What every command shares: the Typer app, logging set-up, one-line errors and argument checks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer


app = typer.Typer(help="Synpunkt: classify and report what citizens say about their municipality.",
                  no_args_is_help=True, pretty_exceptions_enable=False)

ModelOpt = Annotated[Optional[Path], typer.Option("--model", "-m", help="Model directory (default: the shipped model)")]
BackendOpt = Annotated[Optional[str], typer.Option("--backend", help="Inference backend: torch, onnx, onnx-int8, cuda or auto (default: SYNPUNKT_BACKEND, else the model's recorded default, see `synpunkt compare-backends`)")]


def _backend(value: str | None) -> str | None:
    """A --backend value, checked (a one-line error naming the allowed ones otherwise); None when not given."""
    if value is None:
        return None
    from synpunkt.inference import AUTO, BackendError, check_backend

    try:
        return AUTO if value.strip().lower() == AUTO else check_backend(value)
    except BackendError as err:
        _fail(f"--backend: {err}")


def _setup_logging(verbose: bool = False) -> None:
    from synpunkt.runtime import quiet_defaults

    quiet_defaults()  # before Prefect or transformers start: no telemetry errors, no weight-loading bars
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "papermill", "traitlets", "asyncio"):  # request-by-request chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {' '.join(str(message).split())}", fg=typer.colors.RED, err=True)  # one line
    raise typer.Exit(code=code)


def _check_settings() -> None:
    """Every setting read once (synpunkt.config.check_settings) before any work, and a backend named by
    SYNPUNKT_BACKEND that this machine cannot run (cuda without a GPU): a mistake is one line naming the variable and
    exit status 2."""
    from synpunkt.config import SettingError, backend, check_settings

    try:
        check_settings()
        if backend() == "cuda":
            from synpunkt.inference.backends import BackendError, check_backend  # torch: only for cuda

            try:
                check_backend("cuda")
            except BackendError as err:
                raise SettingError("SYNPUNKT_BACKEND", f"SYNPUNKT_BACKEND: {err}") from None
    except SettingError as err:
        _fail(str(err))


def _check_home(write: bool = True) -> None:
    """SYNPUNKT_HOME usable (synpunkt.config.check_home; `write`: the command writes there) before any work: one
    line and exit status 2, never a traceback or an answer read from a folder that cannot be there."""
    from synpunkt.config import SettingError, check_home

    try:
        check_home(write)
    except SettingError as err:
        _fail(str(err))


def _input_file(path: Path, what: str = "comment file") -> None:
    """Fail unless `path` is an existing file (a folder or a missing path is a one-line error)."""
    if path.is_dir():
        _fail(f"{path} is a folder; give the {what} itself")
    if not path.is_file():
        _fail(f"{path}: no such file")


def _output_file(path: Path, suffixes: tuple[str, ...], option: str) -> None:
    """Fail unless `path` can be written as one of `suffixes` (checked before any work)."""
    if path.is_dir():
        _fail(f"{option} {path} is a folder; give a file name such as {path / ('out' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        _fail(f"{option} {path}: unsupported file type {path.suffix or '(no suffix)'!r}; supported: "
              f"{', '.join(suffixes)}")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        _fail(f"{option} {path}: {parent} is a file, not a folder")


def _model_folder(model: Path | None, what: str = "--model", hint: str = "") -> Path:
    """--model, or the default model folder; a clear one-line error naming `what` (and ending with `hint`), before
    any work, when it is not a model."""
    from synpunkt.config import model_dir as default_model_dir
    from synpunkt.model import SETTINGS_FILE

    folder = model or default_model_dir()
    if not folder.is_dir():
        _fail(f"{what} {folder}: no such model folder" + (f" ({hint})" if hint else ""))
    if not (folder / SETTINGS_FILE).is_file():
        _fail(f"{what} {folder}: not a Synpunkt model folder (no {SETTINGS_FILE}; `synpunkt train` writes one"
              + (f"; {hint})" if hint else ")"))
    return folder


def _municipality(value: str) -> str:
    """A municipality code from a code or a name ("Göteborg", "goteborg"); one-line error with close matches."""
    from synpunkt.municipalities import UnknownMunicipality, resolve_municipality

    try:
        return resolve_municipality(value)
    except UnknownMunicipality as err:
        _fail(str(err))


def _start_prefect() -> None:
    """Before the first flow: Prefect's API up (a generous start-up timeout, a persistent server reused, the
    temporary one ended with this process however it ends), or one clear line and exit status 2."""
    from synpunkt.runtime import PrefectStartupError, start_prefect

    try:
        start_prefect()
    except PrefectStartupError as err:
        _fail(str(err))
