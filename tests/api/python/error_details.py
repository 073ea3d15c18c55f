#!/usr/bin/env python3
"""A plain grpcio client decodes the google.rpc details of the service's errors.

Usage: error_details.py ADDR CASE[:ARG]...

Each CASE is a call with a hand-encoded request (no generated virtplane code: a
client needs only grpcio, grpcio-status and googleapis-common-protos). For each it
prints one JSON line: the call's code and message, and every detail decoded with
google.rpc's own error_details_pb2, as the proto's JSON mapping.

`pool-exhausted:QUEUE` publishes one big batch to the broker "main" (whose pool holds
one connection) and, while it runs, single messages until one finds the pool full.
"""

import json
import sys
import threading
import time

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


def bytes_field(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


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


def call(channel, case, path, request):
    # No serializers: the request goes as the bytes given, the reply comes as bytes.
    method = channel.unary_unary(path)
    try:
        method(request, timeout=30)
    except grpc.RpcError as err:
        status = rpc_status.from_call(err)
        return {
            "case": case,
            "code": err.code().name,
            "message": err.details(),
            "details": decode(status) if status else [],
        }
    return {"case": case, "code": "OK", "message": "", "details": []}


def pool_exhausted(channel, queue):
    publish = "/virtplane.v1.PublishService/"
    # PublishRequest: broker = 1, exchange = 2, routing_key = 3, body = 4.
    single = (
        string_field(1, "main")
        + string_field(2, "amq.direct")
        + string_field(3, queue)
        + bytes_field(4, b"single")
    )
    # OutgoingMessage: exchange = 1, routing_key = 2, body = 3;
    # PublishBatchRequest: broker = 1, messages = 2.
    message = string_field(1, "amq.direct") + string_field(2, queue) + bytes_field(3, b"x" * 1024)
    batch = string_field(1, "main") + bytes_field(2, message) * 3000
    # Opening the pool's one connection takes longer than a checkout may wait.
    warm = call(channel, "warm-up", publish + "Publish", single)
    if warm["code"] != "OK":
        return warm
    batch_call = threading.Thread(
        target=call, args=(channel, "batch", publish + "PublishBatch", batch)
    )
    batch_call.start()
    answer = {"case": "pool-exhausted", "code": "OK", "message": "never full", "details": []}
    while batch_call.is_alive():
        answer = call(channel, "pool-exhausted", publish + "Publish", single)
        if answer["code"] != "OK":
            break
        time.sleep(0.001)
    batch_call.join()
    return answer


def run(channel, case):
    name, _, arg = case.partition(":")
    if name == "pool-exhausted":
        return pool_exhausted(channel, arg)
    path, request = CASES[name]
    return call(channel, name, path, request)


def main():
    addr, cases = sys.argv[1], sys.argv[2:]
    with grpc.insecure_channel(addr) as channel:
        for case in cases:
            print(json.dumps(run(channel, case)), flush=True)


if __name__ == "__main__":
    main()
