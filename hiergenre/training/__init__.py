"""train-all: data, features, split, every tree's node models, their reuse, honest validation scores."""
