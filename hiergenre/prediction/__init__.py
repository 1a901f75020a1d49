"""Classifying files and signals with a trained tree: the predictor, timelines of long files."""
