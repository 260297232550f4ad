"""Cost models of ACQ's prediction module: UBTM and the DNN / ZILN / CREAD baselines (TensorFlow/Keras).

Import the submodules directly: ``models.factory.build_model``, ``models.training.fit``
and ``models.training.predict``. This package imports TensorFlow; code that Spark's
Python workers import (``acq_spark``) must import it inside functions only.
"""
