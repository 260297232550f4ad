"""The equal-frequency cost-bin tree (spec §3): the tree itself and the Spark job that builds it."""
