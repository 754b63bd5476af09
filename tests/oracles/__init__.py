"""Per-patient reference implementations of rules that app code computes in SQL or vectorised:
tests compare the two; the references are not app code."""
