"""Where a run executes: device, data-parallel processes, threads, run-folder locks, atomic writes."""
