"""IAM credential report operations: GenerateCredentialReport, GetCredentialReport."""

from __future__ import annotations

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def generate_credential_report(ctx: CallContext, _p: Params) -> Result:
    generation = ctx.services.credential_report.generate()
    result: dict[str, object] = {"State": generation.state}
    if generation.description is not None:
        result["Description"] = generation.description
    return result


def get_credential_report(ctx: CallContext, _p: Params) -> Result:
    report = ctx.services.credential_report.get()
    return {
        "Content": report.content,
        "ReportFormat": "text/csv",
        "GeneratedTime": report.generated_time,
    }


OPERATIONS = (
    Operation("iam", "GenerateCredentialReport", generate_credential_report, any_resource),
    Operation("iam", "GetCredentialReport", get_credential_report, any_resource),
)
