"""Cost models of ACQ's prediction module: UBTM and the DNN / ZILN / CREAD baselines (TensorFlow/Keras).

Import the submodules directly: ``acq_spark.models.factory.build_model``, ``acq_spark.models.fitting.fit``
and ``acq_spark.models.fitting.predict``. This package imports TensorFlow; code that Spark's
Python workers import must import it inside functions only.
"""
