"""openpcf: open product carbon footprint management."""

# The one place the version is written (pyproject.toml reads it from here): a literal, because
# importlib.metadata costs a quarter of a second of the command line's start.
__version__ = "0.1.0"
