"""`python -m synpunkt.cli`."""

from synpunkt.cli import app

app()
