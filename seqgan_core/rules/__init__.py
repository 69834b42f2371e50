"""Targets: the Rule contract, vocabularies, data files and the Target a run trains towards."""
