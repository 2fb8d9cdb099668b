"""Every attribute and metric name otel-llm emits for GenAI calls, in one table.

Names come from ``opentelemetry-semantic-conventions`` where the pinned version has them; the
few it lacks, or where we deliberately follow a different revision of the conventions, are
defined here so that a rename is one edit. docs/attributes.md explains each choice.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _g
from opentelemetry.semconv._incubating.attributes import openai_attributes as _o
from opentelemetry.semconv._incubating.attributes import user_attributes as _u
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _m
from opentelemetry.semconv.attributes import error_attributes as _e
from opentelemetry.semconv.attributes import server_attributes as _s

# Common
OPERATION_NAME: Final = _g.GEN_AI_OPERATION_NAME
PROVIDER_NAME: Final = _g.GEN_AI_PROVIDER_NAME
CONVERSATION_ID: Final = _g.GEN_AI_CONVERSATION_ID
OUTPUT_TYPE: Final = _g.GEN_AI_OUTPUT_TYPE
SERVER_ADDRESS: Final = _s.SERVER_ADDRESS
SERVER_PORT: Final = _s.SERVER_PORT
ERROR_TYPE: Final = _e.ERROR_TYPE

# Request
REQUEST_MODEL: Final = _g.GEN_AI_REQUEST_MODEL
REQUEST_MAX_TOKENS: Final = _g.GEN_AI_REQUEST_MAX_TOKENS
REQUEST_TEMPERATURE: Final = _g.GEN_AI_REQUEST_TEMPERATURE
REQUEST_TOP_P: Final = _g.GEN_AI_REQUEST_TOP_P
REQUEST_TOP_K: Final = _g.GEN_AI_REQUEST_TOP_K
REQUEST_FREQUENCY_PENALTY: Final = _g.GEN_AI_REQUEST_FREQUENCY_PENALTY
REQUEST_PRESENCE_PENALTY: Final = _g.GEN_AI_REQUEST_PRESENCE_PENALTY
REQUEST_STOP_SEQUENCES: Final = _g.GEN_AI_REQUEST_STOP_SEQUENCES
REQUEST_SEED: Final = _g.GEN_AI_REQUEST_SEED
REQUEST_CHOICE_COUNT: Final = _g.GEN_AI_REQUEST_CHOICE_COUNT
REQUEST_STREAM: Final = _g.GEN_AI_REQUEST_STREAM
REQUEST_ENCODING_FORMATS: Final = _g.GEN_AI_REQUEST_ENCODING_FORMATS
EMBEDDINGS_DIMENSION_COUNT: Final = _g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT

# Response
RESPONSE_ID: Final = _g.GEN_AI_RESPONSE_ID
RESPONSE_MODEL: Final = _g.GEN_AI_RESPONSE_MODEL
RESPONSE_FINISH_REASONS: Final = _g.GEN_AI_RESPONSE_FINISH_REASONS
RESPONSE_TIME_TO_FIRST_CHUNK: Final = _g.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK

# Usage. The published conventions (v1.41.1) say cache_creation; the unreleased main branch
# renames it cache_write. We follow the published release until the rename ships.
USAGE_INPUT_TOKENS: Final = _g.GEN_AI_USAGE_INPUT_TOKENS
USAGE_OUTPUT_TOKENS: Final = _g.GEN_AI_USAGE_OUTPUT_TOKENS
USAGE_CACHE_READ_INPUT_TOKENS: Final = _g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
USAGE_CACHE_CREATION_INPUT_TOKENS: Final = _g.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
USAGE_REASONING_OUTPUT_TOKENS: Final = _g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS

# Opt-in content
INPUT_MESSAGES: Final = _g.GEN_AI_INPUT_MESSAGES
OUTPUT_MESSAGES: Final = _g.GEN_AI_OUTPUT_MESSAGES
SYSTEM_INSTRUCTIONS: Final = _g.GEN_AI_SYSTEM_INSTRUCTIONS
TOOL_DEFINITIONS: Final = _g.GEN_AI_TOOL_DEFINITIONS

# Metric attribute
TOKEN_TYPE: Final = _g.GEN_AI_TOKEN_TYPE

# OpenAI-specific
OPENAI_API_TYPE: Final = _o.OPENAI_API_TYPE
OPENAI_REQUEST_SERVICE_TIER: Final = _o.OPENAI_REQUEST_SERVICE_TIER
OPENAI_RESPONSE_SERVICE_TIER: Final = _o.OPENAI_RESPONSE_SERVICE_TIER
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = _o.OPENAI_RESPONSE_SYSTEM_FINGERPRINT

# Unreleased conventions (semantic-conventions-genai main branch), defined here until released.
REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"

# Anthropic-specific: the names the anthropic SDK's own tracing uses, so dashboards built on it keep working.
ANTHROPIC_REQUEST_ID: Final = "anthropic.request.id"
ANTHROPIC_REQUEST_SERVICE_TIER: Final = "anthropic.request.service_tier"
ANTHROPIC_RESPONSE_SERVICE_TIER: Final = "anthropic.response.service_tier"
ANTHROPIC_THINKING_TYPE: Final = "anthropic.thinking.type"
ANTHROPIC_THINKING_BUDGET_TOKENS: Final = "anthropic.thinking.budget_tokens"
ANTHROPIC_BETA: Final = "anthropic.beta"
ANTHROPIC_CACHE_CREATION_5M: Final = "anthropic.usage.cache_creation.ephemeral_5m_input_tokens"
ANTHROPIC_CACHE_CREATION_1H: Final = "anthropic.usage.cache_creation.ephemeral_1h_input_tokens"
ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS: Final = "anthropic.message.count_tokens.input_tokens"

# otel-llm's own attributes (docs/attributes.md lists each with type and meaning).
USER_ID: Final = _u.USER_ID
COST_USD: Final = "otel_llm.cost.usd"
COST_INPUT_USD: Final = "otel_llm.cost.input_usd"
COST_OUTPUT_USD: Final = "otel_llm.cost.output_usd"
COST_CACHE_READ_USD: Final = "otel_llm.cost.cache_read_usd"
COST_CACHE_WRITE_USD: Final = "otel_llm.cost.cache_write_usd"
TAGS: Final = "otel_llm.tags"
METADATA_PREFIX: Final = "otel_llm.metadata."
TENANT_ID: Final = "otel_llm.tenant.id"
OPERATION_LABEL: Final = "otel_llm.operation.name"  # the caller's name for what the call is for
EXCLUDE_DESTINATIONS: Final = "otel_llm.exclude_destinations"
# The request asked destinations to drop (True) or keep (False) its content.
REDACT_CONTENT: Final = "otel_llm.redact.content"
METRIC_COST: Final = "otel_llm.client.cost"

# Event carrying content when capture is in an EVENT mode.
INFERENCE_DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"

# Metrics
METRIC_TOKEN_USAGE: Final = _m.GEN_AI_CLIENT_TOKEN_USAGE
METRIC_OPERATION_DURATION: Final = _m.GEN_AI_CLIENT_OPERATION_DURATION
METRIC_TIME_TO_FIRST_CHUNK: Final = _m.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
METRIC_TIME_PER_OUTPUT_CHUNK: Final = _m.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK

# Well-known values
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_COUNT_TOKENS: Final = "count_tokens"  # not a convention value: Anthropic's token counting endpoint
TOKEN_INPUT: Final = "input"
TOKEN_OUTPUT: Final = "output"
