"""The training wizard: from good parts on the line to a deployed model (see wizard.py)."""
