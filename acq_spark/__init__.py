"""acq-spark: ACQ (Automated Creatives Quota) on Apache Spark, Delta Lake and TensorFlow."""

__version__ = "0.1.0"
