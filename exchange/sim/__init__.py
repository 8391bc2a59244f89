"""A local OKX-compatible exchange on 127.0.0.1 (the demo's venue and every end-to-end test's)."""
