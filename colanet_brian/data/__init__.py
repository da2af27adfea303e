"""Data sets as feature matrices: named sets and ``.npz`` files, image sources (folders, Fashion-MNIST IDX),
frozen timm encoders and the feature cache.  Imports nothing of the model or the engine."""
