"""Training recipes beyond the shipped 2D fine-tuning (no database, no server).

- :mod:`lunglab.ml.recipes.segresnet3d`: a 3D SegResNet recipe for sites with GPUs, trained on
  a project's Decathlon export (``lunglab export dataset``).
"""
