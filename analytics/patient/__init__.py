"""One patient (being split by concept; this step only moves the module)."""
from analytics.patient.record import *  # noqa: F401,F403
from analytics.patient.record import _response_marker  # noqa: F401
