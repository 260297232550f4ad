"""The simulated world of spec §8: ``creative_daily`` logs and the truth for the decision day."""

from acq_spark.simulate.world import WorldParams, simulate_daily, simulate_day, simulate_pairs, simulate_truth

__all__ = ["WorldParams", "simulate_daily", "simulate_day", "simulate_pairs", "simulate_truth"]
