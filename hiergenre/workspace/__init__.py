"""The workspace folder: built tree, trained trees' manifests and models, validation scores."""
