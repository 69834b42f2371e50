"""The training engine: run configuration, presets, recipes, the trainer and its early stopping.

Imports runtime, plugins, rules, evaluation and models; nothing below imports it.
"""
