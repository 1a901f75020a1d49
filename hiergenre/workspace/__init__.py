"""The workspace folder (:mod:`~hiergenre.workspace.layout`) and its trained trees: their folders
(:mod:`~hiergenre.workspace.folders`), manifests, feature front-ends, validation scores, and
:class:`~hiergenre.workspace.trained.TrainedTree`, one published version opened for reading."""
