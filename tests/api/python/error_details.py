#!/usr/bin/env python3
"""A plain grpcio client decodes the google.rpc details of the service's errors.

Usage: error_details.py ADDR CASE...

Each CASE is one call with a hand-encoded request (no generated virtplane code: a
client needs only grpcio, grpcio-status and googleapis-common-protos). For each it
prints one JSON line: the call's code and message, and every detail decoded with
google.rpc's own error_details_pb2, as the proto's JSON mapping.
"""

import json
import sys

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

DETAIL_TYPES = [
    error_details_pb2.ErrorInfo,
    error_details_pb2.ResourceInfo,
    error_details_pb2.BadRequest,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.RetryInfo,
    error_details_pb2.QuotaFailure,
]


def varint(n):
    n &= (1 << 64) - 1  # negative int32 values are sign-extended to 64 bits
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string_field(number, text):
    data = text.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def int_field(number, value):
    return varint(number << 3) + varint(value)


DOMAINS = "/virtplane.v1.DomainService/"
CASES = {
    # GetDomainRequest.domain = 1
    "unknown-domain": (DOMAINS + "GetDomain", string_field(1, "no-such-domain")),
    # ListDomainsRequest.page_size = 1
    "negative-page-size": (DOMAINS + "ListDomains", int_field(1, -1)),
    # ResumeDomainRequest.domain = 1: the test driver's "test" domain runs.
    "resume-running": (DOMAINS + "ResumeDomain", string_field(1, "test")),
    "list-domains": (DOMAINS + "ListDomains", b""),
}


def decode(status):
    details = []
    for any_detail in status.details:
        for kind in DETAIL_TYPES:
            if any_detail.Is(kind.DESCRIPTOR):
                message = kind()
                any_detail.Unpack(message)
                details.append(
                    {
                        "type": kind.DESCRIPTOR.full_name,
                        "value": json_format.MessageToDict(message),
                    }
                )
                break
        else:
            details.append({"type": any_detail.type_url, "value": None})
    return details


def call(channel, case):
    path, request = CASES[case]
    # No serializers: the request goes as the bytes above, the reply comes as bytes.
    method = channel.unary_unary(path)
    try:
        method(request, timeout=10)
    except grpc.RpcError as err:
        status = rpc_status.from_call(err)
        return {
            "case": case,
            "code": err.code().name,
            "message": err.details(),
            "details": decode(status) if status else [],
        }
    return {"case": case, "code": "OK", "message": "", "details": []}


def main():
    addr, cases = sys.argv[1], sys.argv[2:]
    with grpc.insecure_channel(addr) as channel:
        for case in cases:
            print(json.dumps(call(channel, case)), flush=True)


if __name__ == "__main__":
    main()
