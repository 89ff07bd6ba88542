"""The `synpunkt` command line (Typer): one module per kind of user, all registered on one app.

- model_commands: classify, evaluate, compare-backends, fit-shares, recalibrate, train, train-signals, prepare-base
- pipeline_commands (operators): submit, run, status, serve, token, demo, alerts
- batch_commands (operators): batch withdraw
- analyst_commands: report, export, review
"""

# Imported for their side effect, registering the commands, in the order `synpunkt --help` lists them.
from synpunkt.cli import pipeline_commands  # noqa: F401, I001
from synpunkt.cli import batch_commands  # noqa: F401
from synpunkt.cli import model_commands  # noqa: F401
from synpunkt.cli import analyst_commands  # noqa: F401
from synpunkt.cli.common import app

__all__ = ["app"]
