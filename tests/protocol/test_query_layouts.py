"""Key and element layouts the IAM/STS models do not use but the Query protocol has.

Flattened lists and maps and ``locationName`` renames appear in other Query services;
a synthetic botocore model exercises them against botocore's own serializer and parser.
"""

from __future__ import annotations

from typing import Any

from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from iamd.protocol.query_parser import InputCompiler
from iamd.protocol.xml_serializer import OutputCompiler

_STRUCTURE_MEMBERS = {
    "Flat": {"shape": "FlatList"},
    "FlatNamed": {"shape": "FlatNamedList"},
    "Named": {"shape": "NamedList"},
    "Renamed": {"shape": "Str", "locationName": "OtherName"},
    "Dict": {"shape": "NamedMap"},
    "FlatDict": {"shape": "FlatMap"},
    "Items": {"shape": "ItemList"},
    "Count": {"shape": "Long"},
    "Ratio": {"shape": "Double"},
}
_MODEL = {
    "metadata": {
        "protocol": "query",
        "apiVersion": "2020-01-01",
        "xmlNamespace": "https://example.test/doc/2020-01-01/",
        "serviceId": "Example",
        "endpointPrefix": "example",
        "signatureVersion": "v4",
    },
    "operations": {
        "Op": {
            "name": "Op",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "Shape"},
            "output": {"shape": "Shape", "resultWrapper": "OpResult"},
        }
    },
    "shapes": {
        "Shape": {"type": "structure", "members": _STRUCTURE_MEMBERS},
        "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
        "FlatNamedList": {
            "type": "list",
            "member": {"shape": "Str", "locationName": "Entry"},
            "flattened": True,
        },
        "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "item"}},
        "NamedMap": {
            "type": "map",
            "key": {"shape": "Str", "locationName": "K"},
            "value": {"shape": "Long", "locationName": "V"},
        },
        "FlatMap": {
            "type": "map",
            "key": {"shape": "Str"},
            "value": {"shape": "Item"},
            "flattened": True,
        },
        "ItemList": {"type": "list", "member": {"shape": "Item"}, "flattened": True},
        "Item": {
            "type": "structure",
            "required": ["Name"],
            "members": {"Name": {"shape": "Str"}, "Tags": {"shape": "NamedList"}},
        },
        "Str": {"type": "string"},
        "Long": {"type": "long"},
        "Double": {"type": "double"},
    },
}
_VALUE: dict[str, Any] = {
    "Flat": ["a", "b"],
    "FlatNamed": ["c", "d & e"],
    "Named": ["f"],
    "Renamed": "g",
    "Dict": {"k1": 1, "k2": 2**40},
    "FlatDict": {"x": {"Name": "n1", "Tags": ["t"]}, "y": {"Name": "n2"}},
    "Items": [{"Name": "i1"}, {"Name": "i2", "Tags": ["u", "v"]}],
    "Count": -(2**40),
    "Ratio": 0.5,
}


def _operation() -> Any:
    return ServiceModel(_MODEL, service_name="example").operation_model("Op")


def test_input_layouts_match_botocore_serializer() -> None:
    operation = _operation()
    body = create_serializer("query").serialize_to_request(_VALUE, operation)["body"]
    assert "Entry.1" in body
    assert "Named.item.1" in body
    assert "OtherName" in body
    assert "Dict.entry.2.K" in body
    assert "FlatDict.1.value.Name" in body
    problems: list[str] = []
    form = {key: str(value) for key, value in body.items()}  # as urlencode would send them
    parsed = InputCompiler().compound(operation.input_shape)(form, "", problems)
    assert problems == []
    assert parsed == _VALUE


def test_output_layouts_match_botocore_parser() -> None:
    operation = _operation()
    out: list[str] = ['<OpResponse xmlns="https://example.test/doc/2020-01-01/"><OpResult>']
    OutputCompiler(millisecond_timestamps=False).content(operation.output_shape)(_VALUE, out)
    out.append("</OpResult></OpResponse>")
    xml = "".join(out)
    assert "<Entry>c</Entry>" in xml
    assert "<Named><item>f</item></Named>" in xml
    assert "<FlatDict><key>x</key>" in xml
    response = {"body": xml.encode(), "headers": {}, "status_code": 200}
    parsed = create_parser("query").parse(response, operation.output_shape)
    parsed.pop("ResponseMetadata", None)
    assert parsed == _VALUE
