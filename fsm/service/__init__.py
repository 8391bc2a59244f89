"""The long-running runner: every machine of an account, backoff, parking, logs and notifications."""
