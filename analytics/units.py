"""Units used across the analytics. Times are stored as integer days from B-ALL diagnosis."""
DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the data dictionary's definition of a month
DAYS_PER_YEAR = 365.25


def days_to_months(days):
    return days / DAYS_PER_MONTH
