"""One wording for what was malformed: meshgov.errors.validation_reason and one_line."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, model_validator

from meshgov.errors import one_line, validation_reason


class Inner(BaseModel):
    count: int


class Detail(BaseModel):
    name: str
    inner: Inner

    @model_validator(mode="after")
    def _not_empty(self) -> Detail:
        if not self.name:
            raise ValueError("name is empty")
        return self


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Detail.model_validate(data)
    return caught.value


def test_the_first_problem_is_named_by_its_path() -> None:
    exc = _error({"name": 1, "inner": {"count": "x"}})
    assert validation_reason(exc) == "name: Input should be a valid string"


def test_every_problem_when_asked_joined_on_one_line() -> None:
    exc = _error({"name": 1, "inner": {"count": "x"}})
    assert validation_reason(exc, every=True) == (
        "name: Input should be a valid string; "
        "inner.count: Input should be a valid integer, unable to parse string as an integer"
    )


def test_a_problem_of_the_whole_object_is_named_as_the_caller_says() -> None:
    exc = _error({"name": "", "inner": {"count": 1}})
    assert validation_reason(exc) == "detail: Value error, name is empty"
    assert validation_reason(exc, whole="contract") == "contract: Value error, name is empty"


def test_one_line_folds_and_bounds_an_error() -> None:
    assert one_line(ValueError("a\nb"), limit=3) == "a b"
