"""OKX v5 REST: signing, transport, typed records, error classes, payload rendering, contract sizing."""
