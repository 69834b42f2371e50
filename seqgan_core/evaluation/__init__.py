"""Measuring samples: distances, BLEU, novelty, the verdict and the sampler's temperature choice.

Imports only models-free helpers and errors; rules and everything above use it.
"""
