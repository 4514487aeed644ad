"""rbactool: Azure RBAC as code."""

import logging

__version__ = "0.1.0"

logging.getLogger("rbactool").addHandler(logging.NullHandler())
