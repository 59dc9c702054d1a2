"""template.yaml as the local mesh reads it: short tags, routing queries, functions, intrinsics."""

from __future__ import annotations

import fnmatch
import json
import re
from importlib import metadata
from pathlib import Path

import pytest
from localmesh_support import CENTRAL, PRODUCER, REGION
from moto.events.models import EventPattern

from meshgov.settings import CatalogSettings
from meshgov_local.template import (
    Resolver,
    Template,
    TemplateError,
    TemplateResolveError,
    checked_maximum_concurrency,
    load_template_document,
)

# The detail-types Glue uses for Data Catalog events (DESIGN.md, "Facts to build on").
GLUE_CATALOG_DETAIL_TYPES = [
    "Glue Data Catalog Database State Change",
    "Glue Data Catalog Table State Change",
]


def central_resolver(template: Template, **parameters: str) -> Resolver:
    values = {**template.parameter_defaults(), "StackRole": "central", **parameters}
    return Resolver(template, values, CENTRAL, REGION)


def member_resolver(template: Template, **parameters: str) -> Resolver:
    values = {
        **template.parameter_defaults(),
        "StackRole": "member",
        "CentralAccountId": CENTRAL,
        **parameters,
    }
    return Resolver(template, values, PRODUCER, REGION)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_short_tags_load_as_their_long_form(tmp_path: Path) -> None:
    # Given a template using every CloudFormation short tag
    path = tmp_path / "t.yaml"
    path.write_text(
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "Resources:\n"
        "  R:\n"
        "    Type: X\n"
        "    Properties:\n"
        "      Ref: !Ref P\n"
        "      Sub: !Sub 'a-${P}'\n"
        "      SubList: !Sub ['${x}', {x: !Ref P}]\n"
        "      GetAtt: !GetAtt Q.Arn\n"
        "      GetAttList: !GetAtt [Q, Arn]\n"
        "      If: !If [C, 1, !Ref 'AWS::NoValue']\n"
        "      Equals: !Equals [a, b]\n"
        "      Not: !Not [!Condition C]\n"
        "      And: !And [!Condition C, !Condition D]\n"
        "      Or: !Or [!Condition C, !Condition D]\n"
        "      Split: !Split [',', 'a,b']\n"
        "      Join: !Join ['-', [a, b]]\n"
        "      Select: !Select [0, [a]]\n"
        "      FindInMap: !FindInMap [M, k, v]\n"
        "      ImportValue: !ImportValue exported\n"
        "      Base64: !Base64 text\n"
        "      Cidr: !Cidr ['10.0.0.0/16', 2, 8]\n"
        "      GetAZs: !GetAZs ''\n"
    )

    # When it is loaded
    document = load_template_document(path)

    # Then every tag is the long form, and the version date stays a string
    props = document["Resources"]["R"]["Properties"]
    assert document["AWSTemplateFormatVersion"] == "2010-09-09"
    assert props["Ref"] == {"Ref": "P"}
    assert props["Sub"] == {"Fn::Sub": "a-${P}"}
    assert props["SubList"] == {"Fn::Sub": ["${x}", {"x": {"Ref": "P"}}]}
    assert props["GetAtt"] == {"Fn::GetAtt": ["Q", "Arn"]}
    assert props["GetAttList"] == {"Fn::GetAtt": ["Q", "Arn"]}
    assert props["If"] == {"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}
    assert props["Not"] == {"Fn::Not": [{"Condition": "C"}]}
    assert props["And"] == {"Fn::And": [{"Condition": "C"}, {"Condition": "D"}]}
    assert props["Or"] == {"Fn::Or": [{"Condition": "C"}, {"Condition": "D"}]}
    assert props["Equals"] == {"Fn::Equals": ["a", "b"]}
    assert props["Split"] == {"Fn::Split": [",", "a,b"]}
    assert props["Join"] == {"Fn::Join": ["-", ["a", "b"]]}
    assert props["Select"] == {"Fn::Select": [0, ["a"]]}
    assert props["FindInMap"] == {"Fn::FindInMap": ["M", "k", "v"]}
    assert props["ImportValue"] == {"Fn::ImportValue": "exported"}
    assert props["Base64"] == {"Fn::Base64": "text"}
    assert props["Cidr"] == {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}
    assert props["GetAZs"] == {"Fn::GetAZs": ""}


def test_a_file_without_resources_is_refused(tmp_path: Path) -> None:
    # Given a YAML file that is no CloudFormation template
    path = tmp_path / "not-a-template.yaml"
    path.write_text("just: data\n")

    # When / Then loading it fails clearly
    with pytest.raises(TemplateError, match="not a CloudFormation template"):
        Template.load(path)


# --------------------------------------------------------------------------------------------
# Routing: rules, patterns, queues
# --------------------------------------------------------------------------------------------


def test_central_rules_route_glue_catalog_events_and_sync_requests(
    mesh_template: Template,
) -> None:
    # Given / When the patterns of the central rules are read
    catalog = mesh_template.event_pattern("CatalogEventsRule")
    requests = mesh_template.event_pattern("CatalogSyncRequestRule")

    # Then they match the documented Glue detail-types and meshgov's own sync request and
    # contract publication (issue 15)
    assert catalog == {"source": ["aws.glue"], "detail-type": GLUE_CATALOG_DETAIL_TYPES}
    assert requests == {
        "source": ["meshgov.catalog"],
        "detail-type": ["Catalog Sync Requested", "Contract Published"],
    }


def test_members_forward_every_event_a_central_rule_consumes(mesh_template: Template) -> None:
    # Given one sample event per detail-type the central rules consume
    samples = [
        {"source": "aws.glue", "detail-type": detail_type, "detail": {}}
        for detail_type in GLUE_CATALOG_DETAIL_TYPES
    ] + [
        {"source": "meshgov.catalog", "detail-type": detail_type, "detail": {}}
        for detail_type in ("Catalog Sync Requested", "Contract Published")
    ]
    forwarding = [
        EventPattern.load(json.dumps(mesh_template.event_pattern(rule)))
        for rule in ("ForwardGlueCatalogEventsRule", "ForwardMeshgovEventsRule")
    ]

    # When each is matched against the member forwarding rules (moto's matcher)
    unforwarded = [s for s in samples if not any(p.matches_event(s) for p in forwarding)]

    # Then none is left behind in the member account
    assert unforwarded == []


def test_both_central_rules_target_the_catalog_events_queue(mesh_template: Template) -> None:
    # Given / When the rules targeting the queue are listed
    rules = mesh_template.rules_targeting("CatalogEventsQueue")

    # Then the central catalog rules feed it (Glue catalog events, sync requests, and the
    # producers' Glue Data Quality results)
    assert rules == ["CatalogEventsRule", "CatalogSyncRequestRule", "QualityResultsRule"]


def test_catalog_events_queue_redrives_to_its_dlq_after_five_receives(
    mesh_template: Template,
) -> None:
    # Given / When the queue's redrive is read
    redrive = mesh_template.queue_redrive("CatalogEventsQueue")

    # Then poison messages go to the DLQ after 5 receives, and the DLQ itself has no redrive
    assert redrive == ("CatalogEventsDLQ", 5)
    assert mesh_template.queue_redrive("CatalogEventsDLQ") is None


def test_visibility_timeout_is_six_times_the_consuming_function_timeout(
    mesh_template: Template,
) -> None:
    # Given the function consuming the catalog events queue
    (consumer,) = [f for f in mesh_template.functions() if f.sqs_queue == "CatalogEventsQueue"]

    # When the queue's visibility timeout is read
    visibility = mesh_template.queue_visibility_timeout("CatalogEventsQueue")

    # Then it is 6 x the function timeout, as AWS recommends for SQS event sources
    assert visibility == 6 * consumer.timeout


def test_asking_a_queue_for_an_event_pattern_is_an_error(mesh_template: Template) -> None:
    # Given / When / Then a query on the wrong resource type names the mistake
    with pytest.raises(TemplateError, match="not a AWS::Events::Rule"):
        mesh_template.event_pattern("CatalogEventsQueue")
    with pytest.raises(TemplateError, match="no resource"):
        mesh_template.resource("NoSuchThing")


# --------------------------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------------------------


def test_functions_carry_globals_handler_and_event_sources(mesh_template: Template) -> None:
    # Given / When the functions are read
    functions = {f.logical_id: f for f in mesh_template.functions()}

    # Then each has its handler file, the Globals environment merged with its own, its source
    assert set(functions) == {
        "CatalogSyncFunction",
        "CatalogSweepFunction",
        "CatalogSweepWorkerFunction",
        "AccessRequestsFunction",
        "AccessSweepFunction",
        "MemberAccessFunction",
        "AuditDigestFunction",
        "UsageFunction",
        "LineageFunction",
    }
    for name, spec in functions.items():
        assert spec.handler_file.is_file()
        # the lineage function alone also has OpenLineage's models (layers/lineage_models/)
        extra = ("LineageModelsLayer",) if name == "LineageFunction" else ()
        assert spec.layers == ("MeshgovLayer", *extra)
    access, member = functions["AccessRequestsFunction"], functions["MemberAccessFunction"]
    assert (access.sqs_queue, access.batch_size) == ("AccessEventsQueue", 10)
    assert {"REQUESTS_TABLE_NAME", "AUDIT_TABLE_NAME", "REGISTRY_TABLE_NAME"} <= set(
        access.environment_names
    )
    assert (member.sqs_queue, member.schedule) == (
        "MemberEventsQueue",
        {"Ref": "InvitationSweepSchedule"},
    )
    assert functions["AccessSweepFunction"].schedule == {"Ref": "AccessSweepSchedule"}
    for spec in (functions["CatalogSyncFunction"], functions["CatalogSweepFunction"]):
        assert spec.handler_file.is_file()
        assert (spec.handler_module, spec.handler_function) == ("app", "handler")
        assert {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
            "LOG_LEVEL",
            "AUDIT_TABLE_NAME",
            "LEDGER_TABLE_NAME",
            "CENTRAL_BUS_NAME",
            "REGISTRY_TABLE_NAME",
            "READER_ROLE_NAME",
        } <= set(spec.environment_names)
        assert spec.layers == ("MeshgovLayer",)
    sync, sweep = functions["CatalogSyncFunction"], functions["CatalogSweepFunction"]
    assert (sync.sqs_queue, sync.batch_size, sync.timeout) == ("CatalogEventsQueue", 10, 60)
    # the sweep plans (a bounded amount of work); its workers take one item each, 4 at most
    assert (sweep.sqs_queue, sweep.schedule, sweep.timeout) == (
        None,
        {"Ref": "SweepSchedule"},
        300,
    )
    worker = functions["CatalogSweepWorkerFunction"]
    assert (worker.sqs_queue, worker.batch_size, worker.maximum_concurrency) == ("SweepQueue", 1, 4)
    assert "SWEEP_QUEUE_URL" in set(sweep.environment_names) & set(worker.environment_names)


def test_every_function_gets_the_powertools_layer_of_the_pinned_release(
    mesh_template: Template,
) -> None:
    # Given the Powertools release this project installs (and the local mesh runs)
    pinned = metadata.version("aws-lambda-powertools")

    # When each function's external layers are resolved with the default parameters
    resolver = central_resolver(mesh_template)
    resolved = {
        spec.logical_id: [resolver.resolve(layer) for layer in spec.external_layers]
        for spec in mesh_template.functions()
    }

    # Then every function has exactly AWS's public layer of that same release, looked up by its
    # version-pinned public SSM parameter (python3.12, x86_64: the functions' runtime)
    expected = f"{{{{resolve:ssm:/aws/service/powertools/python/x86_64/python3.12/{pinned}}}}}"
    assert resolved and all(layers == [expected] for layers in resolved.values()), resolved
    globals_ = mesh_template.document["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.12" and globals_["Architectures"] == ["x86_64"]


def test_the_powertools_layer_arn_can_be_given_where_ssm_does_not_publish_it(
    mesh_template: Template,
) -> None:
    # Given an aws-cn deployment that names the Powertools layer version itself
    arn = (
        "arn:aws-cn:lambda:cn-north-1:498634801083:layer:"
        "AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
    )
    resolver = central_resolver(mesh_template, PowertoolsLayerArn=arn)

    # When a function's external layers are resolved
    spec = mesh_template.functions()[0]
    layers = [resolver.resolve(layer) for layer in spec.external_layers]

    # Then that ARN is used, and the parameter admits only a layer version ARN (or nothing)
    assert layers == [arn]
    pattern = mesh_template.parameters["PowertoolsLayerArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, arn) and re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, arn.rsplit(":", 1)[0])  # a layer without its version


def test_a_function_layer_that_names_no_layer_is_refused(tmp_path: Path) -> None:
    # Given a function whose Layers references a queue
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "  F:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: f/, Handler: app.handler, Layers: [!Ref Q]}\n"
    )

    # When / Then reading the functions says so
    with pytest.raises(TemplateError, match="no layer"):
        Template.load(path).functions()


# --------------------------------------------------------------------------------------------
# Budgets and limits (issue 16 item 4, docs/adr/0021)
# --------------------------------------------------------------------------------------------


def test_every_sqs_event_source_has_a_maximum_concurrency_lambda_accepts(
    mesh_template: Template,
) -> None:
    # Given every SQS event source of every function, read from the raw Events (a function with
    # two SQS sources would show them both)
    sources = {
        f"{lid}.{name}": event.get("Properties", {})
        for lid in mesh_template.resources_of_type("AWS::Serverless::Function")
        for name, event in mesh_template.properties(lid).get("Events", {}).items()
        if event.get("Type") == "SQS"
    }
    assert sources

    # Then each caps its concurrency within Lambda's range, 2..1000 (API_ScalingConfig), with
    # its parameters at their defaults
    resolver = central_resolver(mesh_template)
    for source, props in sources.items():
        maximum = resolver.resolve(props.get("ScalingConfig", {}).get("MaximumConcurrency"))
        assert maximum is not None, f"{source} has no ScalingConfig.MaximumConcurrency"
        assert checked_maximum_concurrency(maximum) in range(2, 1001), source

    # And the budget is the one docs/adr/0021 chose: the catalog writers 16 (12 for events, the
    # sweep workers' 4), access 8, usage and lineage 4, a member 2 - at most 32 central
    # invocations from queues append at once, half of the audit trail's 64 shards (ADR 0019)
    central = {
        f.logical_id: checked_maximum_concurrency(resolver.resolve(f.maximum_concurrency))
        for f in mesh_template.functions()
        if f.condition == "IsCentral" and f.maximum_concurrency is not None
    }
    assert {
        "CatalogSyncFunction": 12,
        "AccessRequestsFunction": 8,
        "UsageFunction": 4,
        "LineageFunction": 4,
    }.items() <= central.items()
    assert sum(central.values()) <= 64 // 2, central
    member = {f.logical_id: f.maximum_concurrency for f in mesh_template.functions()}
    assert member["MemberAccessFunction"] == 2


def test_the_digest_function_runs_one_at_a_time_and_no_queue_consumer_is_throttled(
    mesh_template: Template,
) -> None:
    # Given / When the functions' reserved concurrency is read
    functions = {f.logical_id: f for f in mesh_template.functions()}
    resolver = central_resolver(mesh_template)

    # Then the audit digest writer runs one at a time, whatever else runs
    assert functions["AuditDigestFunction"].reserved_concurrency == 1
    # And no queue consumer reserves less than its source may invoke at once: "Don't configure
    # maximum concurrency higher than the function's reserved concurrency", or Lambda throttles
    # the messages (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)
    for spec in functions.values():
        if spec.reserved_concurrency is not None and spec.maximum_concurrency is not None:
            maximum = checked_maximum_concurrency(resolver.resolve(spec.maximum_concurrency))
            assert spec.reserved_concurrency >= maximum, spec.logical_id


@pytest.mark.parametrize("value", ["1", "1001", "'many'", "[]"])
def test_a_maximum_concurrency_lambda_would_refuse_is_refused(tmp_path: Path, value: str) -> None:
    # Given an SQS event source whose maximum concurrency is outside 2..1000 (or not a number)
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "  F:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: f/\n"
        "      Handler: app.handler\n"
        "      Events:\n"
        "        E:\n"
        "          Type: SQS\n"
        "          Properties:\n"
        "            Queue: !GetAtt Q.Arn\n"
        f"            ScalingConfig: {{MaximumConcurrency: {value}}}\n"
    )

    # When / Then reading the functions refuses it, naming the range
    with pytest.raises(TemplateError, match="MaximumConcurrency must be an integer from 2 to 1000"):
        Template.load(path).functions()


def test_a_negative_reserved_concurrency_is_refused(tmp_path: Path) -> None:
    # Given a function reserving -1 executions (Lambda's range starts at 0)
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  F:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: f/, Handler: app.handler, ReservedConcurrentExecutions: -1}\n"
    )

    # When / Then reading the functions refuses it
    with pytest.raises(TemplateError, match="ReservedConcurrentExecutions must be an integer"):
        Template.load(path).functions()


def test_the_layer_content_holds_the_meshgov_package(mesh_template: Template) -> None:
    # Given / When the layer's content directory is read
    content = mesh_template.layer_content_uri("MeshgovLayer")

    # Then the meshgov package is inside it (SAM copies it into python/)
    assert (content / "meshgov").is_dir()
    assert (content / "requirements.txt").is_file()


# --------------------------------------------------------------------------------------------
# Resolving intrinsics
# --------------------------------------------------------------------------------------------


def test_conditions_pick_the_stack_role(mesh_template: Template) -> None:
    # Given a central and a member resolver
    central, member = central_resolver(mesh_template), member_resolver(mesh_template)

    # When / Then the conditions follow StackRole
    assert central.condition("IsCentral") and not central.condition("IsMember")
    assert member.condition("IsMember") and not member.condition("IsCentral")
    assert central.condition(None)


def test_sub_resolves_parameters_and_pseudo_parameters(mesh_template: Template) -> None:
    # Given the central function role's name and the member reader role's trust policy
    central, member = central_resolver(mesh_template), member_resolver(mesh_template)

    # When they are resolved
    role_name = central.resolve(mesh_template.properties("CatalogWriterRole")["RoleName"])
    trust = member.resolve(
        mesh_template.properties("CatalogReaderRole")["AssumeRolePolicyDocument"]
    )

    # Then names and ARNs are the physical ones
    assert role_name == f"meshgov-central-catalog-writer-{REGION}"
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{CENTRAL}:root"}
    assert statement["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{CENTRAL}:role/meshgov-central-*"}
    }


def test_the_central_function_roles_match_what_member_reader_roles_trust(
    mesh_template: Template,
) -> None:
    # Given the reader role's trusted principal pattern and the central function role names
    trust = member_resolver(mesh_template).resolve(
        mesh_template.properties("CatalogReaderRole")["AssumeRolePolicyDocument"]
    )
    pattern = trust["Statement"][0]["Condition"]["ArnLike"]["aws:PrincipalArn"]
    central = central_resolver(mesh_template)
    roles = [
        f"arn:aws:iam::{CENTRAL}:role/"
        + central.resolve(mesh_template.properties(role)["RoleName"])
        for role in (
            "CatalogWriterRole",
            "AccessRequestsRole",
            "AccessSweepRole",
            "AuditDigestRole",
        )
    ]

    # When / Then every central function role matches the pattern
    assert all(role.startswith(pattern.removesuffix("*")) for role in roles)


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("eu-central-1", "aws"), ("cn-north-1", "aws-cn")],
)
def test_the_reader_role_is_named_per_region_and_central_may_assume_its_regions_only(
    mesh_template: Template, region: str, partition: str
) -> None:
    """IAM role names are unique per account in every Region
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): one member
    account's stacks in two Regions need two reader roles, and each central assumes its own."""
    # Given the member stack and the central stack of one Region (and its partition)
    member_values = {
        **mesh_template.parameter_defaults(),
        "StackRole": "member",
        "CentralAccountId": CENTRAL,
    }
    member = Resolver(mesh_template, member_values, PRODUCER, region, partition=partition)
    central_values = {**mesh_template.parameter_defaults(), "StackRole": "central"}
    central = Resolver(mesh_template, central_values, CENTRAL, region, partition=partition)

    # When the reader role's name and central's AssumeRole grant are resolved
    name = member.resolve(mesh_template.properties("CatalogReaderRole")["RoleName"])
    statements = mesh_template.properties("CatalogGovernancePolicy")["PolicyDocument"]["Statement"]
    (grant,) = [central.resolve(s) for s in statements if s.get("Sid") == "AssumeMemberReaderRoles"]

    # Then the role carries the Region, as the library names the role it assumes
    assert name == f"meshgov-catalog-reader-{region}"
    settings = CatalogSettings.from_env(
        {
            "AWS_REGION": region,
            "CENTRAL_ACCOUNT_ID": CENTRAL,
            "AUDIT_TABLE_NAME": "audit",
            "LEDGER_TABLE_NAME": "ledger",
            "CENTRAL_BUS_NAME": "meshgov",
            "REGISTRY_TABLE_NAME": "registry",
            "READER_ROLE_NAME": str(member_values["ReaderRoleName"]),
        }
    )
    assumed = settings.reader_role_arn(PRODUCER)
    assert assumed == f"arn:{partition}:iam::{PRODUCER}:role/{name}"
    # And central may assume exactly that Region's reader roles, in its partition
    assert grant["Resource"] == f"arn:{partition}:iam::*:role/meshgov-catalog-reader-{region}"
    assert fnmatch.fnmatchcase(assumed, grant["Resource"])
    other = "eu-west-1" if region != "eu-west-1" else "eu-central-1"
    assert not fnmatch.fnmatchcase(assumed.replace(region, other), grant["Resource"])


def test_comma_delimited_lists_and_if_feed_the_bus_policy(mesh_template: Template) -> None:
    # Given member accounts as one comma-separated value, no organization
    physical = {"MeshgovBus": "meshgov"}
    arn = f"arn:aws:events:{REGION}:{CENTRAL}:event-bus/meshgov"
    resolver = Resolver(
        mesh_template,
        {
            **mesh_template.parameter_defaults(),
            "StackRole": "central",
            "MemberAccounts": "222222222222,333333333333",
        },
        CENTRAL,
        REGION,
        physical=physical,
        attributes={"MeshgovBus.Arn": arn},
    )

    # When the bus policy is resolved
    policy = resolver.resolve(mesh_template.properties("MeshgovBusPolicy"))

    # Then it lists the accounts (the organization branch of the !If is not taken)
    assert policy["EventBusName"] == "meshgov"
    assert policy["Statement"]["Principal"] == {"AWS": ["222222222222", "333333333333"]}
    assert "Condition" not in policy["Statement"]


@pytest.mark.parametrize(
    ("admin_arn", "expected_admins"),
    [("", 3), ("arn:aws:iam::111111111111:role/platform-lf-admin", 4)],
)
def test_the_optional_lake_formation_admin_is_dropped_when_empty(
    mesh_template: Template, admin_arn: str, expected_admins: int
) -> None:
    # Given the function role ARNs and an optional platform admin
    attributes = {
        "CatalogWriterRole.Arn": "arn:aws:iam::111111111111:role/writer",
        "AccessRequestsRole.Arn": "arn:aws:iam::111111111111:role/access",
        "AccessSweepRole.Arn": "arn:aws:iam::111111111111:role/access-sweep",
        "UsageRole.Arn": "arn:aws:iam::111111111111:role/usage",
    }
    resolver = Resolver(
        mesh_template,
        {
            **mesh_template.parameter_defaults(),
            "StackRole": "central",
            "LakeFormationAdminArn": admin_arn,
        },
        CENTRAL,
        REGION,
        attributes=attributes,
    )

    # When the Lake Formation settings are resolved
    admins = resolver.resolve(mesh_template.properties("LakeFormationSettings"))["Admins"]

    # Then AWS::NoValue removed the empty admin from the list
    assert len(admins) == expected_admins
    assert admins[0] == {"DataLakePrincipalIdentifier": "arn:aws:iam::111111111111:role/writer"}


def test_unknown_names_and_functions_are_refused(mesh_template: Template) -> None:
    # Given a resolver that knows no physical names
    resolver = central_resolver(mesh_template)

    # When / Then unknown references and unsupported functions fail loudly
    with pytest.raises(TemplateResolveError, match="Ref AuditTable"):
        resolver.resolve({"Ref": "AuditTable"})
    with pytest.raises(TemplateResolveError, match=r"GetAtt AuditTable\.Arn"):
        resolver.resolve({"Fn::Sub": "${AuditTable.Arn}"})
    with pytest.raises(TemplateResolveError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})
    with pytest.raises(TemplateResolveError, match="list parameter"):
        resolver.resolve({"Fn::Sub": "${MemberAccounts}"})


def test_sub_keeps_escaped_variables_literal(mesh_template: Template) -> None:
    # Given a Sub with an escaped ${!...} and an explicit variable map
    resolver = central_resolver(mesh_template)

    # When it is resolved
    text = resolver.resolve({"Fn::Sub": ["${!Literal}-${x}-${AWS::Region}", {"x": "y"}]})

    # Then the escaped one stays, the others are substituted
    assert text == f"${{Literal}}-y-{REGION}"
