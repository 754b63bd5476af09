"""Units used across the analytics. Times are stored as integer days from B-ALL diagnosis."""
DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the data dictionary's definition of a month
DAYS_PER_YEAR = 365.25


def patients_text(n: int) -> str:
    """ "1 patient", "32 patients" (captions that can describe a single patient).

    >>> patients_text(1), patients_text(32)
    ('1 patient', '32 patients')
    """
    return f"{n} patient" + ("" if n == 1 else "s")


def days_to_months(days):
    return days / DAYS_PER_MONTH
