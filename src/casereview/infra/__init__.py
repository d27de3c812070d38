"""What the rules run on: the time now, who is at the keyboard, disk caches, output files,
workflow files found on disk, and worker processes."""
