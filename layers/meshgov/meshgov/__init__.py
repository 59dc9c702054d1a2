"""meshgov: event-driven governance for a data mesh on AWS Lake Formation and AWS Glue.

The library holds every decision; Lambda handlers in ``functions/`` only parse, call and return.
Pure decisions live beside thin adapters that take boto3 clients (``meshgov.aws``).
"""

__version__ = "0.1.0"
