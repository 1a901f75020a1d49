"""Node models: node kinds in one registry, the Keras CNN, LiteRT export and inference, statistics classifiers."""
