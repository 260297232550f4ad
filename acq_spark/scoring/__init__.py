"""Distributed inference: every scoring row × every level → pvalue, explore and r (spec §6)."""
