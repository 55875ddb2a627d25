"""Primitives used everywhere: coordinate systems and location protection."""

from amurlink.core.crs import *  # noqa: F403
from amurlink.core.crs import __all__ as _crs_all
from amurlink.core.protection import *  # noqa: F403
from amurlink.core.protection import __all__ as _protection_all

__all__ = [*_crs_all, *_protection_all]
