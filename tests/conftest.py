"""Hypothesis profiles: ``default`` keeps ``tox`` fast; ``thorough`` (HYPOTHESIS_PROFILE=thorough
or ``--hypothesis-profile=thorough``) draws twelve times as many networks."""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
