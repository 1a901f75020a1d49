"""Feature front-ends: what a node model sees of a signal (LMFCC windows, their cache)."""
