"""One contract, every backend: the same tests against memory and a real redis-server."""
