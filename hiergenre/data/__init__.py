"""Data sets and audio: decoding, folder and CSV layouts, splits, FMA, taxonomies, the synthetic corpora."""
