"""The one exception tree: drawn once (in openncii.errors), defined once, and every class answered
over HTTP with exactly one status and the one error body."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import openncii
from openncii import errors
from openncii.errors import OpenNCIIError
from openncii.serving.errors import ERROR_RULES, error_codes, install_error_handlers, rule_for

#: Constructor arguments of the errors that carry data.
_ARGS: dict[str, dict[str, Any]] = {
    "NotEligibleError": {"question": "adult_now", "help_url": "https://example.org/help"},
    "HashRejectedError": {"index": 3},
    "RateLimitedError": {"retry_after": 42},
    "CaseLockedError": {"retry_after": 42},
    "ServiceBusyError": {"retry_after": 42},
    "SignInLockedError": {"retry_after": 42},
    "FeedUnavailableError": {"status": 503},
    "FeedRejectedError": {"status": 418},
}
#: Extra fields and headers of the answers of some families.
_EXTRA_FIELDS: dict[str, set[str]] = {
    "NotEligibleError": {"question", "help_url"},
    "HashRejectedError": {"index"},
}


def _subclasses(cls: type[OpenNCIIError]) -> list[type[OpenNCIIError]]:
    found: list[type[OpenNCIIError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _tree() -> list[type[OpenNCIIError]]:
    return [OpenNCIIError, *_subclasses(OpenNCIIError)]


def _error(cls: type[OpenNCIIError]) -> OpenNCIIError:
    return cls("something is wrong", **_ARGS.get(cls.__name__, {}))


def test_every_error_class_is_defined_in_the_errors_module() -> None:
    for module in pkgutil.walk_packages(openncii.__path__, "openncii."):
        if module.name.endswith("__main__") or ".migrations" in module.name:
            continue  # scripts run by the CLI or by Alembic, not imported
        importlib.import_module(module.name)
    strays = [c for c in _tree() if c.__module__ != "openncii.errors"]
    assert strays == []
    public = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and obj.__module__ == errors.__name__
    }
    assert public == set(errors.__all__) == {c.__name__ for c in _tree()}
    assert all(c.__doc__ for c in _tree())


def test_the_drawing_in_the_errors_module_is_the_tree() -> None:
    drawn: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    root_column: int | None = None
    for line in (errors.__doc__ or "").splitlines():
        if root_column is None:
            if line.strip() == "OpenNCIIError":
                root_column = line.index("O")
                drawn["OpenNCIIError"] = None
                stack.append((0, "OpenNCIIError"))
            continue
        branch = re.search(r"[├└]── (\w+)", line)
        if branch is None:
            if drawn and not line.strip():
                continue
            break
        depth = (branch.start() - root_column) // 4 + 1
        name = branch.group(1)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        assert name not in drawn, f"{name} is drawn twice"
        drawn[name] = stack[-1][1]
        stack.append((depth, name))
    actual = {
        c.__name__: next((b.__name__ for b in c.__bases__ if issubclass(b, OpenNCIIError)), None)
        for c in _tree()
    }
    assert drawn == actual


def test_every_error_class_maps_to_the_rule_of_its_nearest_ancestor() -> None:
    rules = {rule.error: rule for rule in ERROR_RULES}
    assert len(rules) == len(ERROR_RULES), "one rule per class"
    assert all(rule.error in _tree() for rule in ERROR_RULES)
    for cls in _tree():
        nearest = next(base for base in cls.__mro__ if base in rules)
        assert rule_for(cls) is rules[nearest], cls
        assert rule_for(_error(cls)) is rules[nearest]
        assert 400 <= rule_for(cls).status <= 599
        assert re.fullmatch(r"[a-z_]+", rule_for(cls).code)
        assert rule_for(cls).code in error_codes()


@pytest.mark.parametrize("cls", _tree(), ids=lambda c: c.__name__)
def test_every_error_class_is_answered_with_its_one_status_and_the_one_body(
    cls: type[OpenNCIIError],
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/fail")
    def fail() -> None:
        raise _error(cls)

    rule = rule_for(cls)
    with TestClient(app) as client:
        response = client.get("/fail")
    assert response.status_code == rule.status
    body = response.json()
    extra = set().union(
        *(v for k, v in _EXTRA_FIELDS.items() if k in [c.__name__ for c in cls.__mro__])
    )
    assert set(body) == {"detail", "code"} | extra
    assert body["code"] == rule.code
    assert body["detail"] == rule.detail.format("something is wrong")
    if issubclass(cls, errors.RateLimitedError | errors.ServiceBusyError):
        assert response.headers["retry-after"] == "42"
    if issubclass(cls, errors.PartnerKeyError):
        assert response.headers["www-authenticate"] == "Bearer"


def test_partner_side_errors_are_one_family() -> None:
    """``except FeedError`` on the partner side catches every failure to talk to the feed, and
    nothing of the server's; the server's partner-API refusals are another family."""
    feed = {c.__name__ for c in _subclasses(errors.FeedError)}
    assert feed == {
        "FeedAuthError",
        "FeedUnavailableError",
        "FeedProtocolError",
        "FeedRejectedError",
    }
    assert all(issubclass(errors.FeedError, errors.PartnerClientError) for _ in feed)
    assert not issubclass(errors.PartnerRequestError, errors.FeedError)
    assert not any(
        name.startswith("Feed") for name in (c.__name__ for c in _subclasses(errors.ServiceError))
    )
    with pytest.raises(errors.FeedError):
        raise errors.FeedProtocolError("not JSON")
