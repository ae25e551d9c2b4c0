"""Command-line commands (python -m meeting <command>)."""
