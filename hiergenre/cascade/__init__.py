"""The tree and its decisions, free of TensorFlow: genre trees, routing, decoding, calibration, the estimator."""
