"""cBioPortal study files, as published, mapped onto the app's schema (being split into modules)."""
from analytics.importing.cbioportal.assemble import (SAMPLE_RULE, EndpointSource, collect, default_efs_source,
                                                     endpoint_sources, read_study, relocate, status_code)

__all__ = ["SAMPLE_RULE", "EndpointSource", "collect", "default_efs_source", "endpoint_sources", "read_study",
           "relocate", "status_code"]
