"""Benchmarks: they start real servers, load them over real sockets and report numbers."""
