"""Training on the driver: examples from Delta through Arrow, the model artifact, the Table-2 evaluation.

TensorFlow and :mod:`models` are imported inside the functions that need them only.
"""
