"""Event contracts (pydantic v2): what meshgov accepts and emits. Exported as JSON Schema under
``events/schemas/`` by ``python -m meshgov.contracts.export``."""
