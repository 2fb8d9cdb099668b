from tests.support import json_response, make_client

CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
}


def test_chat_span(telemetry):
    client = make_client(lambda req: json_response(CHAT))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    span = telemetry.span()
    assert span.name == "chat gpt-4o"
    assert span.attributes["gen_ai.usage.input_tokens"] == 10
