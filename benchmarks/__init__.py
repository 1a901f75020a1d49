"""hiergenre's benchmarks: run them from the repository root as modules, e.g.

python -m benchmarks.flat_vs_hier DATA --out benchmarks/results/NAME
"""
