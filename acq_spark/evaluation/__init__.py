"""Offline evaluations against the simulated world's truth (the paper's Table 4)."""
