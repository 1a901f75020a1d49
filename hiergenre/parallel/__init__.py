"""One parallel backend for independent jobs: local processes (joblib) or a Dask cluster."""
