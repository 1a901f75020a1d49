"""Scoring trained trees: the evaluation loop, metrics, operating curves, reliability."""
