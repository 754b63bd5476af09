"""Per-patient reference implementations of rules the app computes at registry size (in SQL or
array operations). They exist only to check the app's versions against (tests compare them on the
demo cohort and synthetic cohorts); the app never calls them."""
