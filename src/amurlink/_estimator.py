"""Parameter plumbing shared by amurlink's estimators (scikit-learn style).

An estimator takes its settings as keyword arguments of ``__init__`` and stores each one,
unchanged, as an attribute of the same name; ``fit`` validates them. This base class
provides ``get_params``, ``set_params``, ``__repr__`` and that validation, so the estimators
(:class:`amurlink.analysis.secr.SECR`, :class:`amurlink.identify.genotypes.GenotypeMatcher`)
do not each repeat it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

__all__ = ["ParamsEstimator", "one_of", "is_bool"]

_NO_DEFAULT = inspect.Parameter.empty


def one_of(*allowed: Any) -> tuple[Callable[[Any], bool], str]:
    """A parameter check accepting exactly the given values.

    Parameters
    ----------
    *allowed
        The allowed values.

    Returns
    -------
    tuple of (callable, str)
        The predicate and its description (``"one of a, b"``) for ``_param_checks``.
    """
    def ok(v: Any) -> bool:
        try:
            return bool(v in allowed)
        except (TypeError, ValueError):  # e.g. an array
            return False

    return ok, "one of " + ", ".join(map(str, allowed))


def is_bool() -> tuple[Callable[[Any], bool], str]:
    """A parameter check accepting ``True`` or ``False`` (Python or NumPy booleans).

    Returns
    -------
    tuple of (callable, str)
        The predicate and its description for ``_param_checks``.
    """
    return (lambda v: isinstance(v, bool | np.bool_), "True or False")


class ParamsEstimator:
    """Base class: ``get_params``/``set_params``/``__repr__`` and parameter validation.

    The parameters are the keyword parameters of the subclass's ``__init__`` (in order), each
    stored as an attribute of the same name.

    Class attributes
    ----------------
    _param_checks : mapping of str to (callable, str)
        For the parameters that have a rule: a predicate on the value and a description of
        what is expected (used in the error message).
    _param_error : type of Exception
        Raised by :meth:`_validate_params` and :meth:`set_params` (default ``ValueError``).
    _repr_defaults : bool
        Whether ``repr`` lists parameters left at their defaults (default: only the others).
    """

    _param_checks: ClassVar[Mapping[str, tuple[Callable[[Any], bool], str]]] = {}
    _param_error: ClassVar[type[Exception]] = ValueError
    _repr_defaults: ClassVar[bool] = False

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        """Parameter name -> default (``inspect.Parameter.empty`` where there is none)."""
        sig = inspect.signature(cls.__init__)
        return {
            p.name: p.default
            for p in sig.parameters.values()
            if p.name != "self"
            and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        }

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters.

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; parameters are not nested.

        Returns
        -------
        dict
            Parameter name -> current value, in the order of ``__init__``.
        """
        return {name: getattr(self, name) for name in self._param_defaults()}

    def set_params(self, **params: Any):
        """Set parameters (validated when the estimator is fitted).

        Parameters
        ----------
        **params
            Parameter name -> new value.

        Returns
        -------
        self

        Raises
        ------
        ValueError (or the estimator's ``_param_error``)
            For a name that is not a parameter; nothing is set then.
        """
        names = self._param_defaults()
        unknown = [k for k in params if k not in names]
        if unknown:
            raise self._param_error(
                f"{type(self).__name__}: unknown parameter {unknown[0]!r}; the parameters are "
                f"{', '.join(names)}"
            )
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        shown = []
        for name, default in defaults.items():
            value = getattr(self, name)
            if self._repr_defaults or default is _NO_DEFAULT or not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def _validate_params(self) -> None:
        """Check every parameter that has a rule in ``_param_checks``.

        Raises
        ------
        ValueError (or the estimator's ``_param_error``)
            Naming the first invalid parameter, its value and what is expected.
        """
        for name, (ok, expected) in self._param_checks.items():
            value = getattr(self, name)
            if not ok(value):
                raise self._param_error(
                    f"{type(self).__name__}: invalid {name}={value!r}; expected {expected}"
                )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or (type(a) is type(b) and a == b))
    except (TypeError, ValueError):  # e.g. arrays
        return False
