"""The AWS Glue Data Quality event meshgov reads: ``Data Quality Evaluation Results Available``.

Glue Data Quality puts it on the default bus of the account that ran the evaluation (source
``aws.glue-dataquality``, delivery best effort:
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue-dataquality.html). Its detail,
as the Glue guide's sample shows it
(https://docs.aws.amazon.com/glue/latest/dg/data-quality-alerts.html): ``context``
(``contextType`` ``GLUE_DATA_CATALOG`` for a ruleset run on a Data Catalog table, with ``runId``,
``databaseName``, ``tableName``, ``catalogId``; a run inside a Glue job has ``GLUE_JOB`` and names
the job instead), ``resultID``, ``rulesetNames``, ``state``, ``score`` ("the ratio of rules that
passed to the total number of rules",
https://docs.aws.amazon.com/glue/latest/webapi/API_GetDataQualityResult.html),
``rulesSucceeded``, ``rulesFailed``, ``rulesSkipped``. Unknown fields are allowed (AWS adds some).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

QUALITY_SOURCE = "aws.glue-dataquality"
QUALITY_RESULTS_AVAILABLE = "Data Quality Evaluation Results Available"
CATALOG_CONTEXT = "GLUE_DATA_CATALOG"
# ResultId, RunId and names: 1 to 255 characters (the Glue API's length constraints).
_ID_MAX = 255


class QualityContext(BaseModel):
    """Where the evaluation ran: a Data Catalog table (or a Glue job, which meshgov ignores)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context_type: str = Field(alias="contextType", min_length=1)
    run_id: str | None = Field(default=None, alias="runId", min_length=1, max_length=_ID_MAX)
    database_name: str | None = Field(
        default=None, alias="databaseName", min_length=1, max_length=_ID_MAX
    )
    table_name: str | None = Field(
        default=None, alias="tableName", min_length=1, max_length=_ID_MAX
    )
    catalog_id: str | None = Field(default=None, alias="catalogId", pattern=r"^\d{12}$")


class QualityResultsDetail(BaseModel):
    """The detail of ``Data Quality Evaluation Results Available``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: QualityContext
    result_id: str = Field(alias="resultID", min_length=1, max_length=_ID_MAX)
    ruleset_names: list[str] = Field(alias="rulesetNames", min_length=1, max_length=10)
    state: str = Field(min_length=1, max_length=32)
    score: float = Field(ge=0.0, le=1.0)
    rules_succeeded: int = Field(alias="rulesSucceeded", ge=0)
    rules_failed: int = Field(alias="rulesFailed", ge=0)
    rules_skipped: int = Field(default=0, alias="rulesSkipped", ge=0)
