"""An independent AMQP client for the tests (pika), playing the 2010 clients.

    amqp_client.py publish URL EXCHANGE ROUTING_KEY < BODIES
        Publishes each line of standard input (a JSON document, or `@FILE` for a file's
        bytes) with publisher confirms, persistent; prints "published N".
    amqp_client.py take URL QUEUE COUNT TIMEOUT
        Takes up to COUNT messages from QUEUE (acknowledging them), waiting at most TIMEOUT
        seconds in all; prints one JSON object per message: body (text), headers,
        message_id, content_type.
"""

import json
import sys
import time

import pika


def connect(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(url))


def publish(url: str, exchange: str, routing_key: str) -> None:
    connection = connect(url)
    channel = connection.channel()
    channel.confirm_delivery()
    count = 0
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        if line.startswith("@"):
            with open(line[1:], "rb") as f:
                body = f.read()
        else:
            body = line.encode()
        # Raises if the broker nacks or returns the message.
        channel.basic_publish(
            exchange,
            routing_key,
            body,
            pika.BasicProperties(content_type="application/json", delivery_mode=2),
            mandatory=True,
        )
        count += 1
    connection.close()
    print(f"published {count}", flush=True)


def header_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def take(url: str, queue: str, count: int, timeout: float) -> None:
    connection = connect(url)
    channel = connection.channel()
    deadline = time.monotonic() + timeout
    taken = 0
    while taken < count and time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            time.sleep(0.05)
            continue
        headers = {k: header_text(v) for k, v in (properties.headers or {}).items()}
        print(
            json.dumps(
                {
                    "body": body.decode("utf-8", "replace"),
                    "headers": headers,
                    "message_id": properties.message_id,
                    "content_type": properties.content_type,
                }
            ),
            flush=True,
        )
        channel.basic_ack(method.delivery_tag)
        taken += 1
    connection.close()


def main() -> None:
    command = sys.argv[1]
    if command == "publish":
        publish(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "take":
        take(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
