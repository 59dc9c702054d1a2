"""template.yaml, read by the local mesh: the one source of the event patterns, queues and tables.

The local mesh must route events exactly as the deployed stacks do, so it reads the routing
(rules, patterns, targets, redrive, key schemas, functions) from ``template.yaml`` instead of
keeping a copy that could drift. Short-form intrinsics (``!Ref``, ``!Sub`` ...) are loaded into
their long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) and a small :class:`Resolver` evaluates
the few intrinsics the local deployer needs, given parameter values and physical names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"

_SHORT_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Split",
    "Join",
    "Select",
    "FindInMap",
    "ImportValue",
    "Base64",
    "Cidr",
    "GetAZs",
)


class TemplateError(Exception):
    """template.yaml does not hold what the local mesh expects (a missing or odd resource)."""


class TemplateResolveError(TemplateError):
    """An intrinsic function the local resolver cannot evaluate (unknown name or function)."""


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


# libyaml's parser when PyYAML has it (the same documents, about 8x faster: every local mesh
# reads the template); the constructors and resolvers stay PyYAML's safe ones either way.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CfnLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """SafeLoader that understands CloudFormation short tags and keeps dates as strings.

    CloudFormation reads ``2010-09-09`` as a string; PyYAML would make it a ``date``.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _construct_node(loader: CfnLoader, node: yaml.Node) -> Any:
    """The node's plain value (scalar, list or mapping), built deeply."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise TemplateError(f"unexpected YAML node {node!r}")  # pragma: no cover - PyYAML has 3 kinds


def _short_tag_constructor(name: str) -> Any:
    """A constructor turning ``!Name value`` into the long form CloudFormation defines for it."""

    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        value = _construct_node(loader, node)
        if name == "Ref":
            return {"Ref": value}
        if name == "Condition":
            return {"Condition": value}
        if name == "GetAtt" and isinstance(value, str):
            # "Resource.Attribute" -> [Resource, Attribute]; attributes may contain dots.
            resource, _, attribute = value.partition(".")
            return {"Fn::GetAtt": [resource, attribute]}
        return {f"Fn::{name}": value}

    return construct


for _tag in _SHORT_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _short_tag_constructor(_tag))


def load_template_document(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain long-form dicts."""
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return cast(dict[str, Any], document)


# --------------------------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    """What the local mesh needs to run an ``AWS::Serverless::Function`` in-process."""

    logical_id: str
    code_uri: Path
    handler_module: str
    handler_function: str
    timeout: int
    # Globals.Function.Environment merged with the function's own (the function's win), raw.
    environment: Mapping[str, Any]
    condition: str | None = None
    # The template's own layers (LayerVersion logical ids), Globals' first as SAM prepends them.
    layers: tuple[str, ...] = ()
    # Layers from outside the template (an ARN, a parameter, an ``Fn::If`` of those), raw: the
    # Powertools layer. The local mesh runs the handlers in this project's virtualenv, which has
    # the same pinned aws-lambda-powertools installed.
    external_layers: tuple[Any, ...] = ()
    sqs_queue: str | None = None
    batch_size: int | None = None
    # Raw value of the Schedule event's expression (often {"Ref": "SweepSchedule"}).
    schedule: Any = None
    role: Any = None
    # The SQS event source's ``ScalingConfig.MaximumConcurrency`` (None: the source has none),
    # raw: an int, or an intrinsic (``!Ref`` to a Number parameter) the deployment resolves.
    maximum_concurrency: Any = None
    # ``ReservedConcurrentExecutions`` (None: the function draws from the account's pool).
    reserved_concurrency: int | None = None

    @property
    def handler_file(self) -> Path:
        """The source file of the handler module (``app.handler`` -> ``<code_uri>/app.py``)."""
        return self.code_uri.joinpath(*self.handler_module.split(".")).with_suffix(".py")

    @property
    def environment_names(self) -> tuple[str, ...]:
        return tuple(self.environment)


@dataclass(frozen=True)
class _FunctionEvents:
    sqs_queue: str | None = None
    batch_size: int | None = None
    schedule: Any = None
    # Raw: an int, or an intrinsic the deployment resolves.
    maximum_concurrency: Any = None


# ``ScalingConfig.MaximumConcurrency`` of an SQS event source: "Valid Range: Minimum value of 2.
# Maximum value of 1000." (https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html,
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). CloudFormation refuses
# a value outside it, so the local mesh does too.
MAXIMUM_CONCURRENCY_RANGE = range(2, 1001)


def _integer(value: Any) -> int | None:
    """An integer property as CloudFormation takes it: a number, or the string a ``Number``
    parameter resolves to; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def checked_maximum_concurrency(value: Any) -> int:
    """A resolved ``MaximumConcurrency``; a clear error outside 2..1000, as Lambda gives."""
    number = _integer(value)
    if number is None or number not in MAXIMUM_CONCURRENCY_RANGE:
        raise TemplateError(
            f"ScalingConfig.MaximumConcurrency must be an integer from 2 to 1000, got {value!r}"
        )
    return number


def _maximum_concurrency(props: Mapping[str, Any]) -> Any:
    """The SQS event source's raw maximum concurrency (None without one): a literal is checked
    here, an intrinsic (``!Ref`` to a parameter) when the deployment resolves it."""
    scaling = props.get("ScalingConfig")
    if scaling is None:
        return None
    value = scaling.get("MaximumConcurrency") if isinstance(scaling, Mapping) else None
    return value if isinstance(value, Mapping) else checked_maximum_concurrency(value)


def _function_events(events: Mapping[str, Any]) -> _FunctionEvents:
    """The SQS source (queue logical id, batch size, maximum concurrency) and schedule of a
    function's Events."""
    found = _FunctionEvents()
    for event in events.values():
        props = event.get("Properties", {})
        if event.get("Type") == "SQS":
            queue = props.get("Queue")
            found = _FunctionEvents(
                _logical_id_of(queue),
                int(props.get("BatchSize", 10)),
                found.schedule,
                _maximum_concurrency(props),
            )
        elif event.get("Type") == "Schedule":
            found = _FunctionEvents(
                found.sqs_queue, found.batch_size, props.get("Schedule"), found.maximum_concurrency
            )
    return found


def _reserved_concurrency(props: Mapping[str, Any]) -> int | None:
    """A function's ``ReservedConcurrentExecutions``, or None. "Valid Range: Minimum value of
    0" (https://docs.aws.amazon.com/lambda/latest/dg/API_Concurrency.html): 0 stops the function."""
    value = props.get("ReservedConcurrentExecutions")
    if value is None:
        return None
    number = _integer(value)
    if number is None or number < 0:
        raise TemplateError(f"ReservedConcurrentExecutions must be an integer >= 0, got {value!r}")
    return number


def _logical_id_of(reference: Any) -> str:
    """The resource a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(reference, dict):
        if "Ref" in reference:
            return str(reference["Ref"])
        if "Fn::GetAtt" in reference:
            return str(reference["Fn::GetAtt"][0])
    raise TemplateError(f"expected a Ref or GetAtt to a resource, got {reference!r}")


# --------------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """Read-only view of template.yaml with the queries the local mesh needs."""

    document: Mapping[str, Any]
    base_dir: Path = field(default=TEMPLATE_PATH.parent)

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH) -> Template:
        return cls(load_template_document(path), path.resolve().parent)

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        return cast(Mapping[str, Mapping[str, Any]], self.document["Resources"])

    @property
    def parameters(self) -> Mapping[str, Mapping[str, Any]]:
        return cast(Mapping[str, Mapping[str, Any]], self.document.get("Parameters", {}))

    @property
    def conditions(self) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], self.document.get("Conditions", {}))

    def resource(self, logical_id: str) -> Mapping[str, Any]:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise TemplateError(f"template.yaml has no resource {logical_id}") from None

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], self.resource(logical_id).get("Properties", {}))

    def resources_of_type(self, resource_type: str) -> list[str]:
        return [lid for lid, res in self.resources.items() if res.get("Type") == resource_type]

    def parameter_defaults(self) -> dict[str, str]:
        """Every parameter's Default (as the raw string CloudFormation takes)."""
        return {
            name: str(spec["Default"])
            for name, spec in self.parameters.items()
            if "Default" in spec
        }

    # -- events ------------------------------------------------------------------------------

    def event_pattern(self, rule_logical_id: str) -> dict[str, Any]:
        """The EventPattern of an ``AWS::Events::Rule``, as the dict EventBridge matches."""
        props = self._typed_properties(rule_logical_id, "AWS::Events::Rule")
        pattern = props.get("EventPattern")
        if not isinstance(pattern, dict):
            raise TemplateError(f"{rule_logical_id} has no EventPattern")
        return pattern

    def rules_targeting(self, logical_id: str) -> list[str]:
        """The rules with a target whose Arn references ``logical_id``."""
        rules = []
        for rule_id in self.resources_of_type("AWS::Events::Rule"):
            targets = self.properties(rule_id).get("Targets", [])
            if any(_references(target.get("Arn"), logical_id) for target in targets):
                rules.append(rule_id)
        return rules

    # -- queues ------------------------------------------------------------------------------

    def queue_redrive(self, logical_id: str) -> tuple[str, int] | None:
        """``(dead-letter queue logical id, maxReceiveCount)``, or None without a RedrivePolicy."""
        redrive = self._typed_properties(logical_id, "AWS::SQS::Queue").get("RedrivePolicy")
        if redrive is None:
            return None
        return _logical_id_of(redrive["deadLetterTargetArn"]), int(redrive["maxReceiveCount"])

    def queue_visibility_timeout(self, logical_id: str) -> int:
        """VisibilityTimeout in seconds (SQS's default, 30, when the template sets none)."""
        props = self._typed_properties(logical_id, "AWS::SQS::Queue")
        return int(props.get("VisibilityTimeout", 30))

    # -- functions ---------------------------------------------------------------------------

    def functions(self) -> list[FunctionSpec]:
        """Every ``AWS::Serverless::Function``, with Globals applied."""
        return [
            self._function_spec(lid) for lid in self.resources_of_type("AWS::Serverless::Function")
        ]

    def layer_content_uri(self, logical_id: str) -> Path:
        props = self._typed_properties(logical_id, "AWS::Serverless::LayerVersion")
        return self.base_dir / str(props["ContentUri"])

    def _function_globals(self) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], self.document.get("Globals", {}).get("Function", {}))

    def _function_spec(self, logical_id: str) -> FunctionSpec:
        props = self._typed_properties(logical_id, "AWS::Serverless::Function")
        globals_ = self._function_globals()
        module, _, function = str(props["Handler"]).rpartition(".")
        events = _function_events(props.get("Events", {}))
        layers, external_layers = self._function_layers(
            [*globals_.get("Layers", []), *props.get("Layers", [])]
        )
        return FunctionSpec(
            logical_id=logical_id,
            code_uri=self.base_dir / str(props["CodeUri"]),
            handler_module=module,
            handler_function=function,
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            environment={**_variables(globals_), **_variables(props)},
            condition=self.resource(logical_id).get("Condition"),
            layers=layers,
            external_layers=external_layers,
            sqs_queue=events.sqs_queue,
            batch_size=events.batch_size,
            schedule=events.schedule,
            role=props.get("Role"),
            maximum_concurrency=events.maximum_concurrency,
            reserved_concurrency=_reserved_concurrency(props),
        )

    def _function_layers(self, entries: list[Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        """A function's layers split into the template's own and the external ones.

        SAM prepends list-valued ``Globals`` to the resource's own list
        (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy-globals.html),
        so the caller passes Globals' entries first. A ``Ref`` names a layer resource of the
        template or a parameter holding an ARN; a ``Ref`` to anything else is an error.
        """
        local: list[str] = []
        external: list[Any] = []
        for entry in entries:
            name = entry.get("Ref") if isinstance(entry, dict) else None
            if name is None or (name in self.parameters and name not in self.resources):
                external.append(entry)
                continue
            layer_type = self.resources.get(str(name), {}).get("Type")
            if layer_type not in _LAYER_TYPES:
                raise TemplateError(f"a function's Layers names {name!r}, which is no layer")
            local.append(str(name))
        return tuple(local), tuple(external)

    def _typed_properties(self, logical_id: str, resource_type: str) -> Mapping[str, Any]:
        """Properties of a resource that must be of ``resource_type`` (a clear error otherwise)."""
        actual = self.resource(logical_id).get("Type")
        if actual != resource_type:
            raise TemplateError(f"{logical_id} is a {actual}, not a {resource_type}")
        return self.properties(logical_id)


_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


def _variables(props: Mapping[str, Any]) -> dict[str, Any]:
    return dict(props.get("Environment", {}).get("Variables", {}))


def _references(value: Any, logical_id: str) -> bool:
    """Whether an intrinsic value (Ref, GetAtt, or a Sub naming it) points at ``logical_id``."""
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt and getatt[0] == logical_id:
            return True
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        return isinstance(text, str) and re.search(rf"\$\{{{logical_id}[.}}]", text) is not None
    return False


# --------------------------------------------------------------------------------------------
# Resolving intrinsics
# --------------------------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_NO_VALUE = object()


@dataclass(frozen=True)
class Resolver:
    """Evaluates intrinsics for one stack, given its parameters and its resources' names.

    ``physical`` maps a logical id to what ``Ref`` returns for it; ``attributes`` maps
    ``"LogicalId.Attribute"`` to what ``Fn::GetAtt`` returns. Supported: Ref, Fn::Sub,
    Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::If and the condition functions.
    """

    template: Template
    parameters: Mapping[str, str | list[str]]
    account_id: str
    region: str
    physical: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    partition: str = "aws"

    def condition(self, name: str | None) -> bool:
        """Whether a named Condition holds (no condition: the resource is always created)."""
        if name is None:
            return True
        try:
            expression = self.template.conditions[name]
        except KeyError:
            raise TemplateResolveError(f"unknown condition {name}") from None
        return bool(self.resolve(expression))

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic evaluated (``AWS::NoValue`` entries dropped)."""
        if isinstance(value, list):
            return [r for r in (self.resolve(item) for item in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        handlers: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Condition": self.condition,
            "Fn::Sub": self._sub,
            "Fn::GetAtt": self._getatt,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda a: not self.resolve(a[0]),
            "Fn::And": lambda a: all(self.resolve(x) for x in a),
            "Fn::Or": lambda a: any(self.resolve(x) for x in a),
        }
        if key not in handlers:
            raise TemplateResolveError(f"the local resolver does not support {key}")
        return handlers[key](arg)

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "meshgov-local",
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self._parameter(name)
        if name in self.physical:
            return self.physical[name]
        raise TemplateResolveError(f"cannot resolve Ref {name}")

    def _parameter(self, name: str) -> str | list[str]:
        """A parameter's value; a CommaDelimitedList given as one string is split as CFN does."""
        value = self.parameters[name]
        declared = self.template.parameters.get(name, {}).get("Type")
        if declared == "CommaDelimitedList" and isinstance(value, str):
            return value.split(",")
        return value

    def _getatt(self, arg: Sequence[str]) -> str:
        key = f"{arg[0]}.{arg[1]}"
        if key not in self.attributes:
            raise TemplateResolveError(f"cannot resolve Fn::GetAtt {key}")
        return self.attributes[key]

    def _sub(self, arg: Any) -> str:
        """``Fn::Sub``: a string, or ``[string, {name: value}]``; ``${!x}`` stays literal."""
        variables: dict[str, Any] = {}
        if isinstance(arg, str):
            text = arg
        else:
            text = str(arg[0])
            variables = {k: self.resolve(v) for k, v in dict(arg[1]).items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._getatt(name.split(".", 1))
            return _scalar(self._ref(name), name)

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _join(self, arg: Sequence[Any]) -> str:
        delimiter, items = arg
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _select(self, arg: Sequence[Any]) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, arg: Sequence[Any]) -> list[str]:
        delimiter, text = arg
        return str(self.resolve(text)).split(str(delimiter))

    def _if(self, arg: Sequence[Any]) -> Any:
        name, if_true, if_false = arg
        return self.resolve(if_true if self.condition(name) else if_false)

    def _equals(self, arg: Sequence[Any]) -> bool:
        left, right = (self.resolve(item) for item in arg)
        return bool(left == right)


def _scalar(value: Any, name: str) -> str:
    """A value substituted into a string (Fn::Sub accepts no list parameters)."""
    if isinstance(value, list):
        raise TemplateResolveError(f"Fn::Sub cannot substitute the list parameter {name}")
    return str(value)
