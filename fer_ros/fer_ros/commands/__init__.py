"""Subcommands of the fer-ros CLI, one module each (see fer_ros.cli)."""
