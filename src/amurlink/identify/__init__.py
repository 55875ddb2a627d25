"""Individual identification: identity links between national catalogues, DNA genotypes."""

from amurlink.identify.links import *  # noqa: F403
from amurlink.identify.links import __all__ as _links_all

__all__ = [*_links_all]
