"""Table readers, one module per family of formats; synpunkt.tables is the entry point."""
