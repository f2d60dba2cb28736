"""Analyses of trained TFSNNs: accuracy estimator and energy-bounded search, SEENN early exit,
noise injection, loss landscapes, gradient metrics, BN calibration sweep."""
