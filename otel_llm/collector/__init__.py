"""The otel-llm collector: OTLP receivers in front of the same destinations pipeline the SDK uses.

``otel-llm collector --config FILE`` runs it (``server.run``); docs/collector.md describes it.
"""
