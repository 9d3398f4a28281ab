"""One run top to bottom (capture, recheck): the archive directory, its lock and recovery, the recorder."""
