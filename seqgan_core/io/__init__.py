"""What a run leaves on disk: the run folder (checkpoints, config, metrics), model export, plots."""
