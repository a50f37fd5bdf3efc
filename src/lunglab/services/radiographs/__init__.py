"""Chest radiographs next to CT: readers' findings and scores, their agreement, exports, and
the demo radiographs. The image and its label map are an ordinary one-slice study and
label-map versions (``services.ingest``, ``services.labels``, ``services.collab``)."""
