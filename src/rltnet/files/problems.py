"""Reading a YAML data file whole, and turning every problem in it into a sentence.

A problem names where it is (``centres[2] 'leeds'.chairs``), the value found,
what is wrong, and the fix, taken from the field's description in the schema.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from rltnet.domain.errors import DataFileError
from rltnet.files.fields import FieldProblem

M = TypeVar("M", bound=BaseModel)

# libyaml's parser where PyYAML was built with it: it reads a network file about five
# times faster than the pure-Python one, which every service worker does at start.
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader, with dates and times left as text for the schema to read: YAML's
    own reading turns an impossible date (``2027-02-30``) into an exception with no place
    in the file, where the schema names the field, the value and the fix."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
    }


SAFE_LOADER = SafeLoader


def read_yaml(path: Path) -> Any:
    """The parsed document, or `DataFileError` for a missing, unreadable or malformed file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(str(path), ["file not found. Fix: check the path"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataFileError(
            str(path), [f"cannot read the file ({err}). Fix: save it as UTF-8 text"]
        ) from None
    try:
        document = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise DataFileError(
            str(path),
            [f"{where}not valid YAML ({problem}). Fix: fix the indentation or quoting there"],
        ) from None
    if not isinstance(document, dict):
        raise DataFileError(
            str(path),
            [
                f"the file must be a YAML mapping of sections, not {type(document).__name__}. "
                f"Fix: start with 'name:' and the sections its format document lists"
            ],
        )
    return document


def validate(path: Path, model: type[M], document: Any) -> M:
    """Validate `document` against `model`; every problem is reported at once."""
    parsed, problems = check(model, document)
    if parsed is None:
        raise DataFileError(str(path), problems)
    return parsed


def check(model: type[M], document: Any) -> tuple[M | None, list[str]]:
    """The validated model, or None and a sentence for each problem."""
    try:
        return model.model_validate(document), []
    except ValidationError as err:
        return None, [describe(error, model, document) for error in err.errors(include_url=False)]


def describe(error: ErrorDetails, model: type[BaseModel], document: Any) -> str:
    """One sentence for one pydantic error: where, the value, what is wrong, the fix."""
    loc = tuple(error["loc"])
    where = location(loc, document)
    if error["type"] == "extra_forbidden":
        parent = _field_model(model, loc[:-1])
        known = [f.alias or name for name, f in parent.model_fields.items()] if parent else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"
        return f"{where}: unknown field. Fix: remove it or correct the spelling ({hint})"
    if error["type"] == "union_tag_invalid":  # an unknown `kind`: name the kinds, not the list's fix
        context = error.get("ctx") or {}
        tag, expected = str(context.get("tag", "")), str(context.get("expected_tags", ""))
        kinds = [k.strip(" '") for k in expected.split(",") if k.strip(" '")]
        close = difflib.get_close_matches(tag, kinds, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}.kind: unknown kind {tag!r}. Fix: {hint}write one of: {', '.join(kinds)}"
    message = error["msg"].removeprefix("Value error, ")
    found = error.get("input")
    problem = (error.get("ctx") or {}).get("error")
    field_hint = None
    if isinstance(problem, FieldProblem):
        loc = (*loc, *problem.path)
        where, found, field_hint = location(loc, document), _value_at(document, loc), problem.fix
    field_hint = field_hint or _field_hint(model, loc)
    fix = f" Fix: {field_hint}." if field_hint else ""
    if error["type"] == "missing":
        return f"{where}: required field is missing.{fix}"
    return f"{where}: {message} (got {_show(found)}).{fix}"


def location(loc: Sequence[int | str], document: Any) -> str:
    """``centres[2] 'leeds'.chairs``: list items are named by their id where they have one.

    Names the validator adds that are not in the file (a union's tag) are left out.
    """
    parts: list[str] = []
    node = document
    for position, key in enumerate(loc):
        last = position == len(loc) - 1
        added_by_validator = isinstance(key, str) and (
            isinstance(node, list) or (isinstance(node, dict) and key not in node)
        )
        if added_by_validator and not last:
            continue
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
            label = f" {node['id']!r}" if isinstance(node, dict) and "id" in node else ""
            parts.append(f"[{key}]{label}")
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + key)
    return "".join(parts) or "(top level)"


def _value_at(document: Any, loc: Sequence[int | str]) -> Any:
    node = document
    for key in loc:
        in_mapping = isinstance(node, dict) and key in node
        in_list = isinstance(node, list) and isinstance(key, int) and key < len(node)
        if in_mapping or in_list:
            node = node[key]
        elif not (isinstance(node, dict | list) and isinstance(key, str)):
            return None  # a union's tag is skipped; anything else is not in the file
    return node


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_hint(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """The description of the deepest named field on the error's path."""
    current: Any = model
    hint = None
    for key in loc:
        if isinstance(key, int):
            continue
        tagged = _tagged_member(current, key)
        if tagged is not None:  # a discriminated union's tag: go on in that member
            current = tagged
            continue
        owner = _as_model(current)
        if owner is None:
            break
        field = _named_field(owner, key)
        if field is None:
            continue  # a mapping key
        hint = field.description or hint
        current = field.annotation
    return hint


def _field_model(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    current: Any = model
    for key in loc:
        if isinstance(key, int):
            continue
        tagged = _tagged_member(current, key)
        if tagged is not None:
            current = tagged
            continue
        owner = _as_model(current)
        if owner is None:
            return None
        field = _named_field(owner, key)
        if field is not None:
            current = field.annotation
    return _as_model(current)


def _named_field(owner: type[BaseModel], key: str) -> Any:
    """The field written as `key` in the file: its name, or its alias (``date`` for ``day``)."""
    if key in owner.model_fields:
        return owner.model_fields[key]
    return next((f for f in owner.model_fields.values() if f.alias == key), None)


def _tagged_member(annotation: Any, tag: str) -> type[BaseModel] | None:
    """The member of a union tagged by `kind` that `tag` names, if `annotation` is such a union."""
    for member in _models_in(annotation):
        kind = member.model_fields.get("kind")
        if kind is not None and tag in typing.get_args(kind.annotation):
            return member
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _as_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``list[X]``, ``X | None``, ``dict[str, X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, dict, typing.Union, types.UnionType) or origin is typing.Annotated:
        for arg in typing.get_args(annotation):
            found = _as_model(arg)
            if found is not None:
                return found
    return None
