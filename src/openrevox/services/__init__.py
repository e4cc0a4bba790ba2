"""Use cases: each takes a connection (the caller owns the transaction) and plain values."""
