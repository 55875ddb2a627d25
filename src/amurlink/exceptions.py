"""Exception and warning classes of amurlink (one tree each)."""

from __future__ import annotations

__all__ = [
    "AmurlinkError",
    "SchemaError",
    "DataError",
    "CRSError",
    "ConfigError",
    "LinkConflictError",
    "LinkStoreLockedError",
    "NotFittedError",
    "FitError",
    "AmurlinkWarning",
    "ConvergenceWarning",
    "MaskBufferWarning",
    "DataQualityWarning",
]


class AmurlinkError(Exception):
    """Base class of every error amurlink raises on purpose."""


class SchemaError(AmurlinkError, ValueError):
    """A table's structure, types, constraints or vocabularies are not as declared."""


class DataError(AmurlinkError, ValueError):
    """Input data cannot be read at all (missing file, unsafe archive, too large, bad encoding)."""


class CRSError(AmurlinkError, ValueError):
    """A coordinate reference system is missing, geographic where metres are needed, or wrong."""


class ConfigError(AmurlinkError, ValueError):
    """A study configuration (``amurlink.toml``) is missing a setting or holds an invalid one."""


class LinkConflictError(AmurlinkError, ValueError):
    """Confirming an identity link would merge individuals that cannot be one animal."""


class LinkStoreLockedError(AmurlinkError, BlockingIOError):
    """Another process holds the identity-link store's lock (its message names the holder)."""


class NotFittedError(AmurlinkError, AttributeError):
    """An estimator was queried before ``fit`` was called."""


class FitError(AmurlinkError, RuntimeError):
    """The optimiser failed and no usable estimate exists."""


class AmurlinkWarning(UserWarning):
    """Base class of every warning amurlink emits."""


class ConvergenceWarning(AmurlinkWarning):
    """The optimiser stopped without clear convergence; check the estimates."""


class MaskBufferWarning(AmurlinkWarning):
    """The habitat mask buffer is too narrow for the fitted detection scale."""


class DataQualityWarning(AmurlinkWarning):
    """The data are usable but something in them needs the user's attention."""
