"""What survives a crash: the hash-chained journal, the state file beside it, the request spool."""
