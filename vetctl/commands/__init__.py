"""vetctl's commands, one module per group; vetctl/main.py registers them on the root group."""
