"""Test helpers that ship with the package: the ELN adapter contract suite (`contract.py`)."""
