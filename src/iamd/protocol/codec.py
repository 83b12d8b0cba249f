"""The AWS Query protocol codec of one service (IAM or STS).

``QueryCodec`` is what the HTTP front uses: ``parse`` turns a decoded form into an
operation name and typed, validated parameters; ``serialize_result`` and
``serialize_error`` produce the XML envelopes botocore parses. All per-operation plans
(readers, writers, envelope fragments) are compiled in ``__init__`` from botocore's
service model, so a request only runs the compiled closures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from iamd.errors import AwsError, InvalidAction, MissingAction, ValidationError
from iamd.protocol.form import query_form
from iamd.protocol.query_parser import CompoundReader, InputCompiler
from iamd.protocol.service_model import compile_operations, load_service_model
from iamd.protocol.validation import problem, raise_if_problems, render_value
from iamd.protocol.xml_serializer import OutputCompiler, Writer, escape_text

# IAM words a malformed path in its own sentence, not in the generic constraint text
# (seen from CreateRole with Path "test/": aws-cloudformation/cfn-lint#722); the
# policy-path and NewPath members are worded the same way.
INVALID_PATH_MESSAGE = (
    "The specified value for path is invalid. It must begin and end with / and contain "
    "only alphanumeric characters and/or / characters."
)
_PATH_MEMBERS = (("Path", "path"), ("NewPath", "newPath"))


def _path_is_malformed(params: Mapping[str, Any], problems: list[str]) -> bool:
    """Whether one of the problems is a path member failing its pattern (matched on
    the whole problem text, so that no other member's value can pass for it)."""
    for member, wire in _PATH_MEMBERS:
        value = params.get(member)
        if not isinstance(value, str):
            continue
        prefix = problem(wire, render_value(value, False), "Member must satisfy regular expression")
        if any(p.startswith(prefix) for p in problems):
            return True
    return False


# Only STS answers with millisecond timestamps (``2011-07-15T23:28:33.359Z``); IAM's
# have whole seconds (``2012-09-21T23:03:13Z``).
_MILLISECOND_SERVICES = frozenset({"sts"})


class _OutputPlan:
    __slots__ = ("head", "result_close", "result_open", "tail", "writer")

    def __init__(
        self, head: str, tail: str, writer: Writer | None, result_open: str, result_close: str
    ) -> None:
        self.head = head
        self.tail = tail
        self.writer = writer
        self.result_open = result_open
        self.result_close = result_close


class QueryCodec:
    """Codec for one AWS Query-protocol service ('iam' or 'sts')."""

    content_type = b"text/xml"
    service_name: str
    api_version: str
    xml_namespace: str
    operation_names: frozenset[str]

    def __init__(self, service_name: str) -> None:
        inputs = InputCompiler()
        outputs = OutputCompiler(millisecond_timestamps=service_name in _MILLISECOND_SERVICES)
        xml_namespace: str = load_service_model(service_name).metadata["xmlNamespace"]
        namespace = f' xmlns="{xml_namespace}"'

        def output_plan(name: str, output_shape: Any) -> _OutputPlan:
            writer: Writer | None = None
            result_open = result_close = ""
            if output_shape is not None:
                writer = outputs.content(output_shape)
                wrapper = output_shape.serialization.get("resultWrapper", f"{name}Result")
                result_open, result_close = f"<{wrapper}>", f"</{wrapper}>"
            return _OutputPlan(
                head=f"<{name}Response{namespace}>",
                tail=f"</{name}Response>",
                writer=writer,
                result_open=result_open,
                result_close=result_close,
            )

        plans = compile_operations(service_name, "query", inputs.compound, output_plan)
        self.service_name = service_name
        self.api_version = plans.api_version
        self.xml_namespace = xml_namespace
        self.operation_names = plans.operation_names
        self._readers: dict[str, CompoundReader | None] = plans.readers
        self._outputs: dict[str, _OutputPlan] = plans.outputs
        self._error_head = f"<ErrorResponse{namespace}><Error><Type>"

    def parse_http(
        self, method: str, raw_query: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> tuple[str, dict[str, Any]]:
        """Parse a request as it arrived: the form is its query string and POSTed body."""
        return self.parse(query_form(method, raw_query, headers, body))

    def parse(self, form: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
        """Return (operation name, typed params) or raise an ``AwsError``."""
        action = form.get("Action")
        if not action:
            raise MissingAction()
        try:
            reader = self._readers[action]
        except KeyError:
            raise InvalidAction.unknown_operation(action, self.api_version) from None
        version = form.get("Version")
        if version is not None and version != self.api_version:
            raise InvalidAction.unknown_operation(action, version)
        if reader is None:
            return action, {}
        problems: list[str] = []
        params: dict[str, Any] = reader(form, "", problems)
        if problems:
            if self.service_name == "iam" and _path_is_malformed(params, problems):
                raise ValidationError(INVALID_PATH_MESSAGE)
            raise_if_problems(problems)
        return action, params

    def serialize_result(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> bytes:
        """The success envelope of ``operation`` holding ``result``."""
        plan = self._outputs[operation]
        out = [plan.head]
        if plan.writer is not None:
            out.append(plan.result_open)
            if result is not None:
                plan.writer(result, out)
            out.append(plan.result_close)
        elif result:
            raise TypeError(f"{operation} has no output, got {sorted(result)}")
        out.append("<ResponseMetadata><RequestId>")
        out.append(escape_text(request_id))
        out.append("</RequestId></ResponseMetadata>")
        out.append(plan.tail)
        return "".join(out).encode("utf-8")

    def serialize_error(self, error: AwsError, request_id: str) -> bytes:
        """The ``ErrorResponse`` envelope for ``error``."""
        return "".join(
            (
                self._error_head,
                "Sender" if error.sender_fault else "Receiver",
                "</Type><Code>",
                escape_text(error.code),
                "</Code><Message>",
                escape_text(error.message),
                "</Message></Error><RequestId>",
                escape_text(request_id),
                "</RequestId></ErrorResponse>",
            )
        ).encode("utf-8")
